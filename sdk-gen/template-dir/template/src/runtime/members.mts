/**
 * The members view of each joined room, kept from what the server says: `room_joined` (the list,
 * capped by the server's `presence.listLimit`, and the count), `user_joined`/`user_left` (sent
 * while the room is at most that big) and `member_count` (the room crossed the limit: from then on
 * the list is partial and only the count moves). `fetchAll` pages `get_members` for the full list.
 * With a presence state declared by the server, each list carries the members' states
 * (`presence`) and `presence_updated` keeps them current.
 * The client's own user stays in the views of the rooms it holds, whatever a late `user_left` says.
 *
 * Order: each instance announces the changes it made, so announcements about one user from two
 * instances (a user who moved) can arrive out of order. When the server's adapter keeps a presence
 * version, every list and `user_joined`/`user_left` carries it: an announcement older than the
 * list the view holds, or than the last one applied for that user, is dropped. Without versions,
 * each is applied as it comes.
 */
import { PresenceMessage, ServerMessage, type ServerFrame } from './protocol/index.js'

export interface MembersView<State = unknown> {
  /**
   * Every member when `complete`. Otherwise (a room over the server's list limit) a sample that is
   * not kept current: the server sends no per-user events there, so it may name users who left.
   */
  readonly users: readonly string[]
  /**
   * Presence state of the known users that have one (user id → state): their most recently set
   * state among their connections in the room. Empty when the server declares no presence state.
   */
  readonly presence: Readonly<Record<string, State>>
  /** Distinct users in the room, as last reported by the server. */
  readonly count: number
  /** True when `users` lists every member; false in a room over the server's list limit until `fetchMembers()`. */
  readonly complete: boolean
}

/** The newest versioned change applied for a user: its version and whether it left them in the room. */
interface Latest { version: number, present: boolean }

interface View {
  users: Set<string>
  count: number
  complete: boolean
  states: Map<string, unknown>
  /** The presence version of the list the view holds (undefined: the server gives none). */
  version: number | undefined
  /** Per user, the newest versioned change applied since that list. */
  latest: Map<string, Latest>
}

export class MemberViews {
  private readonly views = new Map<string, View>()

  /** `self`: this client's user (from `connected`), a member of every room it holds. */
  constructor (private readonly changed: (room: string) => void, private readonly self: () => string | undefined = () => undefined) {}

  view (room: string): MembersView | undefined {
    const view = this.views.get(room)
    return view === undefined ? undefined : { users: [...view.users], count: view.count, complete: view.complete, presence: Object.fromEntries(view.states) }
  }

  /** Every frame from the server. */
  observe (frame: ServerFrame): void {
    const payload = frame.payload as { room?: string, userId?: string, members?: string[], memberCount?: number, presence?: Record<string, unknown>, state?: unknown, version?: number }
    switch (frame.type) {
      case ServerMessage.RoomJoined:
      case ServerMessage.RoomAdded: // a join the server made: same payload, same view
        // A join's list is newer than any announcement the view applied (the server holds the room's frames until it is out).
        if (payload.room !== undefined && Array.isArray(payload.members)) this.replace(payload.room, payload.members, payload.memberCount, payload.presence, payload.version, true)
        return
      case ServerMessage.RoomLeft:
      case ServerMessage.RoomRemoved:
        if (payload.room !== undefined && this.views.delete(payload.room)) this.changed(payload.room)
        return
    }
    const view = frame.room === undefined ? undefined : this.views.get(frame.room)
    if (view === undefined) return
    if (frame.type === ServerMessage.UserJoined && payload.userId !== undefined) {
      if (!newest(view, payload.userId, payload.version, true) || view.users.has(payload.userId)) return
      view.users.add(payload.userId)
      view.count = view.complete ? view.users.size : view.count + 1
    } else if (frame.type === ServerMessage.UserLeft && payload.userId !== undefined) {
      // Our own user is in every room this client holds: a `user_left` for it is stale (its old
      // connection's instance announced it after this connection re-joined elsewhere).
      if (payload.userId === this.self() || !newest(view, payload.userId, payload.version, false)) return
      view.users.delete(payload.userId)
      view.states.delete(payload.userId)
      view.count = view.complete ? view.users.size : Math.max(view.users.size, view.count - 1)
    } else if (frame.type === PresenceMessage.PresenceUpdated && payload.userId !== undefined) {
      // A late update for a user the complete list no longer holds (their user_left came first).
      if (view.complete && !view.users.has(payload.userId)) return
      if ('state' in payload) view.states.set(payload.userId, payload.state)
      else view.states.delete(payload.userId)
    } else if (frame.type === ServerMessage.MemberCount && typeof payload.memberCount === 'number') {
      view.count = payload.memberCount
      view.complete = false
    } else {
      return
    }
    this.changed(frame.room!)
  }

  /**
   * A full list (from `room_joined` or every page of `get_members`), with the listed members' states
   * and its presence version (of pages, the oldest). Unless `fresh` (a join's list), changes the view
   * applied that are newer than the list stay applied on top of it.
   */
  replace (room: string, users: readonly string[], count: number | undefined, presence: Record<string, unknown> = {}, version?: number, fresh = false): void {
    const set = new Set(users)
    const total = count ?? set.size
    const states = new Map(Object.entries(presence).filter(([userId]) => set.has(userId)))
    const complete = set.size >= total
    const latest = new Map<string, Latest>()
    const before = fresh || version === undefined ? undefined : this.views.get(room)?.latest
    for (const [userId, change] of before ?? []) {
      if (change.version <= version!) continue
      latest.set(userId, change)
      if (change.present) set.add(userId)
      else if (set.delete(userId)) states.delete(userId)
    }
    this.views.set(room, { users: set, count: complete ? set.size : Math.max(total, set.size), complete, states, version, latest })
    this.changed(room)
  }
}

/** True (and noted) when a user's change is newer than what the view holds; a change without a version always is. */
function newest (view: View, userId: string, version: number | undefined, present: boolean): boolean {
  if (version === undefined) return true
  if (version <= (view.version ?? 0) || version <= (view.latest.get(userId)?.version ?? 0)) return false
  view.latest.set(userId, { version, present })
  return true
}
