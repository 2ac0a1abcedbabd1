/**
 * `app.ws`: what app code outside a handler may do — typed by the registered protocol's messages,
 * implemented once for any protocol (the hub checks types at run time).
 */
import type { Adapter } from './adapter.js'
import type { WsControl } from './control.js'
import type { PresenceStateOf, WsActions } from './define.js'
import type { ControlTarget } from './control-message.js'
import { WsRegistrationError } from './errors.js'
import type { Hooks, WsHooks } from './hooks.js'
import type { Hub } from './hub.js'
import type { WsStats } from './types.js'

/** `app.ws`: the server side of the protocol, typed by the registered protocol's messages. */
export interface WsServer<S = {}, C = {}> extends WsActions<S>, Omit<WsControl, 'setPresence'> {
  /**
   * Set the presence state of the target's connections in `room`, on every instance (those not in
   * the room are left alone). Typed by the protocol's `.presence()` schema; without one it throws.
   */
  setPresence(target: ControlTarget, room: string, state: PresenceStateOf<S>): Promise<void>
  /** Rooms with members on this instance. */
  rooms(): string[]
  stats(): WsStats
  /** Unique id of this instance. */
  readonly instanceId: string
  /** Add an app hook (see `WsHooks` and the README's "Hooks"), before the app is ready. */
  addHook<K extends keyof WsHooks>(name: K, hook: WsHooks<S, C>[K]): WsServer<S, C>
}

export interface WsServerHandle {
  readonly server: WsServer<any>
  /** The adapter is up: cluster-wide calls may run from now on. */
  markReady(): void
}

export function createWsServer (hub: Hub, adapter: Adapter, hooks: Hooks): WsServerHandle {
  let ready = false
  /** Before ready() the adapter is not connected: say so instead of failing somewhere inside. */
  const whenReady = <A extends unknown[], R>(name: string, method: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (!ready) {
      throw new WsRegistrationError('WS_ERR_NOT_READY',
        `app.ws.${name}() works once the app is ready: call it after \`await app.ready()\` (or app.listen()), or in an onReady hook`)
    }
    return await method(...args)
  }
  const server: WsServer<any> = {
    instanceId: hub.instanceId,
    broadcast: whenReady('broadcast', async (room, type, payload, options) => hub.broadcast(room, type, payload, options)),
    sendToUser: whenReady('sendToUser', async (userId, type, payload) => hub.sendToUser(userId, type, payload)),
    members: whenReady('members', async (room) => adapter.members(room)),
    addToRoom: whenReady('addToRoom', async (target, room) => hub.control.addToRoom(target, room)),
    removeFromRoom: whenReady('removeFromRoom', async (target, room, reason) => hub.control.removeFromRoom(target, room, reason)),
    disconnect: whenReady('disconnect', async (target, reason) => hub.control.disconnect(target, reason)),
    setPresence: whenReady('setPresence', async (target, room, state) => hub.control.setPresence(target, room, state)),
    rooms: () => [...hub.rooms.keys()],
    stats: () => hub.stats(),
    addHook: (name, hook) => {
      hooks.add(name, hook as Parameters<Hooks['add']>[1])
      return server
    },
  }
  return { server, markReady: () => { ready = true } }
}
