/**
 * Presence state in memory (`MemoryAdapter`, and the in-process cluster's shared store): per room,
 * each connection's state and, per user, their connections that set one, least recent first. The
 * merged state of a user is their most recent connection's.
 */
import type { PresenceStateStore, StateChange } from '../adapter.js'

interface RoomStates {
  /** connection id → state (JSON). */
  readonly byConnection: Map<string, string>
  /** user id → their connections with a state, least recently set first. */
  readonly byUser: Map<string, string[]>
}

export class MemoryPresenceStates implements PresenceStateStore {
  private readonly rooms = new Map<string, RoomStates>()

  /** `isMember` tells whether the connection is in the room (the caller's membership index). */
  constructor (private readonly isMember: (room: string, userId: string, connectionId: string) => boolean) {}

  set (room: string, userId: string, connectionId: string, state: string): StateChange | undefined {
    if (!this.isMember(room, userId, connectionId)) return undefined
    let states = this.rooms.get(room)
    if (states === undefined) this.rooms.set(room, states = { byConnection: new Map(), byUser: new Map() })
    const before = this.merged(states, userId)
    states.byConnection.set(connectionId, state)
    const order = (states.byUser.get(userId) ?? []).filter((id) => id !== connectionId)
    order.push(connectionId)
    states.byUser.set(userId, order)
    return { changed: before !== state, state }
  }

  clear (room: string, userId: string, connectionId: string): StateChange {
    const states = this.rooms.get(room)
    if (states === undefined) return { changed: false, state: undefined }
    const before = this.merged(states, userId)
    if (!states.byConnection.delete(connectionId)) return { changed: false, state: before }
    const order = (states.byUser.get(userId) ?? []).filter((id) => id !== connectionId)
    if (order.length > 0) states.byUser.set(userId, order)
    else states.byUser.delete(userId)
    if (states.byConnection.size === 0) this.rooms.delete(room)
    const state = this.merged(states, userId)
    return { changed: before !== state, state }
  }

  get (room: string, userIds: readonly string[]): Array<string | undefined> {
    const states = this.rooms.get(room)
    return userIds.map((userId) => states === undefined ? undefined : this.merged(states, userId))
  }

  private merged (states: RoomStates, userId: string): string | undefined {
    const order = states.byUser.get(userId)
    return order === undefined ? undefined : states.byConnection.get(order[order.length - 1]!)
  }
}
