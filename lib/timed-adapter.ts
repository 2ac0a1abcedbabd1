/**
 * An adapter whose commands report how long they waited for the backend (for metrics). Only
 * commands that answer with a promise are timed: a synchronous answer (the memory adapter) had
 * nothing to wait for. The wrapper delegates everything else unchanged.
 */
import { isPromise, type Adapter } from './adapter.js'

type Observe = (command: string, seconds: number) => void

export function timeAdapter (adapter: Adapter, observe: Observe): Adapter {
  function timed<A extends unknown[], R> (command: string, call: (...args: A) => R): (...args: A) => R {
    return (...args) => {
      const started = performance.now()
      const result = call(...args)
      if (!isPromise(result)) return result
      const done = (): void => { observe(command, (performance.now() - started) / 1000) }
      result.then(done, done)
      return result
    }
  }
  const optional = <K extends 'addConnection' | 'removeConnection' | 'memberCount' | 'stats'>(name: K): Adapter[K] =>
    adapter[name] === undefined ? undefined : (adapter[name] as (...args: unknown[]) => unknown).bind(adapter) as Adapter[K]
  const addConnection = optional('addConnection')
  const removeConnection = optional('removeConnection')
  const memberCount = optional('memberCount')
  return {
    ordersPublishes: adapter.ordersPublishes,
    init: (host) => adapter.init(host),
    close: () => adapter.close(),
    stats: optional('stats'),
    publishToRoom: timed('publishToRoom', (message) => adapter.publishToRoom(message)),
    publishToUser: timed('publishToUser', (userId, data) => adapter.publishToUser(userId, data)),
    addConnection: addConnection && timed('addConnection', addConnection),
    removeConnection: removeConnection && timed('removeConnection', removeConnection),
    addMember: timed('addMember', (room, userId, connectionId) => adapter.addMember(room, userId, connectionId)),
    removeMember: timed('removeMember', (room, userId, connectionId) => adapter.removeMember(room, userId, connectionId)),
    members: timed('members', (room, limit) => adapter.members(room, limit)),
    memberCount: memberCount && timed('memberCount', memberCount),
    lastSeq: timed('lastSeq', (room) => adapter.lastSeq(room)),
    recover: timed('recover', (room, since) => adapter.recover(room, since)),
  }
}
