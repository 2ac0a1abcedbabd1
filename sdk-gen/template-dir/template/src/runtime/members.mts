/**
 * The members view of each joined room, kept from what the server says: `room_joined` (the list,
 * capped by the server's `presence.listLimit`, and the count), `user_joined`/`user_left` (sent
 * while the room is at most that big) and `member_count` (the room crossed the limit: from then on
 * the list is partial and only the count moves). `fetchAll` pages `get_members` for the full list.
 * The client's own user stays in the views of the rooms it holds, whatever a late `user_left` says.
 */
import { ServerMessage, type ServerFrame } from './protocol/index.js'

export interface MembersView {
  /** Users known to be in the room: every member when `complete`. */
  readonly users: readonly string[]
  /** Distinct users in the room, as last reported by the server. */
  readonly count: number
  /** True when `users` lists every member; false in a room over the server's list limit until `fetchMembers()`. */
  readonly complete: boolean
}

interface View { users: Set<string>, count: number, complete: boolean }

export class MemberViews {
  private readonly views = new Map<string, View>()

  /** `self`: this client's user (from `connected`), a member of every room it holds. */
  constructor (private readonly changed: (room: string) => void, private readonly self: () => string | undefined = () => undefined) {}

  view (room: string): MembersView | undefined {
    const view = this.views.get(room)
    return view === undefined ? undefined : { users: [...view.users], count: view.count, complete: view.complete }
  }

  /** Every frame from the server. */
  observe (frame: ServerFrame): void {
    const payload = frame.payload as { room?: string, userId?: string, members?: string[], memberCount?: number }
    switch (frame.type) {
      case ServerMessage.RoomJoined:
      case ServerMessage.RoomAdded: // a join the server made: same payload, same view
        if (payload.room !== undefined && Array.isArray(payload.members)) this.replace(payload.room, payload.members, payload.memberCount)
        return
      case ServerMessage.RoomLeft:
      case ServerMessage.RoomRemoved:
        if (payload.room !== undefined && this.views.delete(payload.room)) this.changed(payload.room)
        return
    }
    const view = frame.room === undefined ? undefined : this.views.get(frame.room)
    if (view === undefined) return
    if (frame.type === ServerMessage.UserJoined && payload.userId !== undefined) {
      if (view.users.has(payload.userId)) return
      view.users.add(payload.userId)
      view.count = view.complete ? view.users.size : view.count + 1
    } else if (frame.type === ServerMessage.UserLeft && payload.userId !== undefined) {
      // Our own user is in every room this client holds: a `user_left` for it is stale (its old
      // connection's instance announced it after this connection re-joined elsewhere).
      if (payload.userId === this.self()) return
      view.users.delete(payload.userId)
      view.count = view.complete ? view.users.size : Math.max(view.users.size, view.count - 1)
    } else if (frame.type === ServerMessage.MemberCount && typeof payload.memberCount === 'number') {
      view.count = payload.memberCount
      view.complete = false
    } else {
      return
    }
    this.changed(frame.room!)
  }

  /** A full list (from `room_joined` or every page of `get_members`). */
  replace (room: string, users: readonly string[], count: number | undefined): void {
    const set = new Set(users)
    const total = count ?? set.size
    this.views.set(room, { users: set, count: Math.max(total, set.size), complete: set.size >= total })
    this.changed(room)
  }
}
