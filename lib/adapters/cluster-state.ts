/**
 * The presence-state role as `ClusterAdapter` offers it: each call tries the backend once. While
 * it is unreachable a state cannot be set (`unavailable`: it would not reach the other
 * instances), a leaving connection's state is left for the membership cleanup (removing a member
 * forgets its state), and member lists carry no states.
 */
import type { PresenceStateStore, StateChange } from '../adapter.js'
import { WsError } from '../errors.js'

export interface StateGuard {
  /** True when the backend takes commands now. */
  available(): boolean
  /** A backend error, for logs and stats. */
  error(err: unknown): void
  /** 'Redis', for messages. */
  readonly label: string
}

export function guardedStates (store: PresenceStateStore | undefined, guard: StateGuard): PresenceStateStore | undefined {
  if (store === undefined) return undefined
  const unavailable = (): WsError => new WsError('unavailable', `${guard.label} is unreachable: the presence state was not set; retry later`)
  const none: StateChange = { changed: false, state: undefined }
  return {
    async set (room, userId, connectionId, state) {
      if (!guard.available()) throw unavailable()
      try {
        return await store.set(room, userId, connectionId, state)
      } catch (err) {
        guard.error(err)
        throw unavailable()
      }
    },
    async clear (room, userId, connectionId) {
      if (!guard.available()) return none
      try {
        return await store.clear(room, userId, connectionId)
      } catch (err) {
        guard.error(err)
        return none
      }
    },
    async get (room, userIds) {
      if (guard.available()) {
        try {
          return await store.get(room, userIds)
        } catch (err) {
          guard.error(err)
        }
      }
      return userIds.map(() => undefined)
    },
  }
}
