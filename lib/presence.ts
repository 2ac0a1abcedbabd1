/**
 * Presence for rooms of any size. Announcing every arrival to every member and listing every
 * member to every joiner costs O(N²) for a room of N users; above `presence.listLimit` members a
 * room stops both:
 * - `room_joined` lists at most `listLimit` users, with `memberCount` always;
 * - `user_joined`/`user_left` go out while the room has at most `listLimit` members; the join
 *   that takes it over the limit, and the departure that brings it back, send one `member_count`
 *   instead (clients then know their list is partial);
 * - `get_members` pages the full list on request (sorted user ids, `after` cursor).
 * Counts are read after each change, so on several instances two joins at the very limit may both
 * see a count past it (then no `member_count` is sent for that crossing).
 *
 * Order: the instance that made a change announces it, so two instances' announcements about one
 * user can arrive in either order (a user moving from one instance to another). With an adapter
 * that keeps a presence version (`PresenceLeave.version`, the built-in ones do), `user_joined`,
 * `user_left` and every members list carry the room's version at that change or read, and a
 * client ignores what is older than what it holds for that user (see the generated client's
 * members view). Lists are read with their count and version in one step (`Adapter.memberList`).
 *
 * Many users leaving at once (an instance shutting down, closing its adapter, or found dead) are
 * announced per room in one batch: a room that had at most `listLimit` members hears a
 * `user_left` for each, a bigger one a single `member_count` with the count after (one frame per
 * member for the whole batch, where one departure at a time would cost O(N²)).
 *
 * Presence state (`defineProtocol().presence()`): each connection may set a state in a room; a
 * user's state is their most recently set one among their connections still in the room. The room
 * hears `presence_updated` when it changes (under the same size rule as `user_joined`), and every
 * members list carries the listed members' states (`presence`).
 */
import type { Adapter, MaybePromise, PresenceLeave, PresenceStateStore, StateChange } from './adapter.js'
import type { Connection } from './connection.js'
import { WsError } from './errors.js'
import { sortedPage } from './members-page.js'
import { PresenceMessage, ServerMessage } from './protocol/names.js'

export interface MemberList {
  members: string[]
  memberCount: number
  /** Listed member → presence state, for those that have one (only with a declared presence state). */
  presence?: Record<string, unknown>
  /** The room's presence version when listed (with an adapter that keeps one). */
  version?: number
}

export interface MembersPage extends MemberList {
  room: string
  next?: string
}

/** Sends an ephemeral frame to a room's members (except `exceptUser`). */
export type Announce = (room: string, type: string, payload: unknown, exceptUser: string | undefined) => MaybePromise<unknown>

/** Users that left: room, user and, when the adapter gave one, the room's presence version at the departure. */
export type Departures = ReadonlyArray<readonly [room: string, userId: string, version?: number | undefined]>

/** `removeMember`'s answer, either form. */
export function asLeave (result: boolean | PresenceLeave): PresenceLeave {
  return typeof result === 'boolean' ? { lastForUser: result } : result
}

/** `user_joined`/`user_left`'s payload: the version only when there is one. */
function userPayload (userId: string, version: number | undefined): { userId: string, version?: number } {
  return version === undefined ? { userId } : { userId, version }
}

/**
 * A presence state as stored, its JSON; refused over `maxBytes`, since every members list carries
 * the listed members' states and a big one would multiply into every join reply.
 */
export function encodeState (state: unknown, maxBytes: number): string {
  const json = JSON.stringify(state)
  if (Buffer.byteLength(json) > maxBytes) throw new WsError('invalid_message', `The presence state is over presence.maxStateBytes (${maxBytes} bytes as JSON)`)
  return json
}

export class Presence {
  /** While set, departures are collected here instead of announced (see `collectDepartures`). */
  private collected: Array<readonly [string, string, number | undefined]> | undefined
  /** The adapter's state store, when the protocol declares a presence state. */
  private readonly states: PresenceStateStore | undefined

  constructor (
    private readonly adapter: Adapter,
    private readonly listLimit: number,
    private readonly announce: Announce,
    withStates = false,
    private readonly maxStateBytes = 1024,
  ) {
    this.states = withStates ? adapter.presenceState : undefined
  }

  /** A user's first connection joined `room` (after the adapter recorded it). */
  async joined (room: string, userId: string, version?: number): Promise<void> {
    const count = await this.count(room)
    if (count <= 1) return // alone: nobody to tell
    if (count <= this.listLimit) await this.announce(room, ServerMessage.UserJoined, userPayload(userId, version), userId)
    else if (count === this.listLimit + 1) await this.announce(room, ServerMessage.MemberCount, { memberCount: count }, userId)
  }

  /** A user's last connection left `room` (after the adapter recorded it). */
  async left (room: string, userId: string, version?: number): Promise<void> {
    if (this.collected !== undefined) return void this.collected.push([room, userId, version])
    const count = await this.count(room)
    if (count === 0) return // nobody left to tell
    if (count < this.listLimit) await this.announce(room, ServerMessage.UserLeft, userPayload(userId, version), undefined)
    else if (count === this.listLimit) await this.announce(room, ServerMessage.MemberCount, { memberCount: count }, undefined)
  }

  /** Several users left at once: per room, a `user_left` each while the room was small, else one `member_count`. */
  async leftMany (departures: Departures): Promise<void> {
    // room → user → version of their departure
    const byRoom = new Map<string, Map<string, number | undefined>>()
    for (const [room, userId, version] of departures) {
      const users = byRoom.get(room)
      if (users === undefined) byRoom.set(room, new Map([[userId, version]]))
      else users.set(userId, version)
    }
    await Promise.all([...byRoom].map(async ([room, users]) => {
      if (users.size === 1) return await this.left(room, ...[...users][0]!)
      const count = await this.count(room)
      if (count === 0) return
      if (count + users.size <= this.listLimit) {
        await Promise.all([...users].map(([userId, version]) => this.announce(room, ServerMessage.UserLeft, userPayload(userId, version), undefined)))
      } else {
        await this.announce(room, ServerMessage.MemberCount, { memberCount: count }, undefined)
      }
    }))
  }

  /** From now on departures wait, to be announced together by `announceCollected` (a shutdown). */
  collectDepartures (): void {
    this.collected ??= []
  }

  /** Announce what was collected, as `leftMany`; departures after this are announced one by one again. */
  async announceCollected (): Promise<void> {
    const collected = this.collected
    this.collected = undefined
    if (collected !== undefined && collected.length > 0) await this.leftMany(collected)
  }

  /** What `room_joined` carries: up to `listLimit` members, the count and (when kept) the version, read together. */
  async list (room: string): Promise<MemberList> {
    const { adapter } = this
    const { members: listed, count, version } = adapter.memberList !== undefined
      ? await adapter.memberList(room, this.listLimit)
      : await Promise.all([adapter.members(room, this.listLimit), this.count(room)]).then(([members, count]) => ({ members, count, version: undefined }))
    const members = listed.length > this.listLimit ? listed.slice(0, this.listLimit) : listed
    // Without `memberList`, counted and listed in two steps: never report fewer members than listed.
    const list: MemberList = { members, memberCount: Math.max(count, members.length) }
    if (version !== undefined) list.version = version
    return await this.withStates(room, list)
  }

  /** One page of `get_members`: sorted user ids after `after`, at most `limit` (capped at `listLimit`). */
  async page (room: string, after: string | undefined, limit: number | undefined): Promise<MembersPage> {
    const size = Math.min(limit ?? this.listLimit, this.listLimit)
    // One more than the page: whether more follow. Without an ordered index, the whole room sorted.
    const { members, count, version } = this.adapter.membersAfter !== undefined
      ? await this.adapter.membersAfter(room, after, size + 1)
      : sortedPage(await this.adapter.members(room), after, size + 1)
    const page: MembersPage = { room, members: members.slice(0, size), memberCount: Math.max(count, members.length) }
    if (version !== undefined) page.version = version
    if (members.length > size) page.next = page.members[size - 1]!
    return await this.withStates(room, page)
  }

  /** Set a connection's state in a room it joined: the room hears `presence_updated` when the user's state changes. */
  async setState (connection: Connection, room: string, state: unknown): Promise<void> {
    if (!connection.rooms.has(room)) throw new WsError('not_in_room', `Join room "${room}" before setting your presence in it`)
    if (this.states === undefined) throw new Error('The adapter keeps no presence state')
    const json = encodeState(state, this.maxStateBytes)
    // Noted first: a leave that starts meanwhile clears it (after this set, in the store's order).
    ;(connection.stated ??= new Set()).add(room)
    const change = await this.states.set(room, connection.userId, connection.id, json)
    if (change === undefined || !connection.rooms.has(room)) throw new WsError('not_in_room', `Left room "${room}" while setting your presence in it`)
    if (change.changed) await this.updated(room, connection.userId, change.state)
  }

  /** The connection is leaving `room`: forget its state. Undefined when it set none there. */
  async clearState (connection: Connection, room: string): Promise<StateChange | undefined> {
    if (this.states === undefined || connection.stated?.delete(room) !== true) return undefined
    return await this.states.clear(room, connection.userId, connection.id)
  }

  /** A user's state in `room` changed (`state`: its JSON; undefined: none): tell the room while it is small. */
  async updated (room: string, userId: string, state: string | undefined): Promise<void> {
    if (await this.count(room) > this.listLimit) return
    await this.announce(room, PresenceMessage.PresenceUpdated, state === undefined ? { userId } : { userId, state: JSON.parse(state) as unknown }, undefined)
  }

  /** Add the listed members' states (when the protocol declares one). */
  private async withStates<L extends MemberList> (room: string, list: L): Promise<L> {
    if (this.states === undefined) return list
    const states = await this.states.get(room, list.members)
    const presence: Record<string, unknown> = {}
    for (const [n, state] of states.entries()) if (state !== undefined) presence[list.members[n]!] = JSON.parse(state) as unknown
    list.presence = presence
    return list
  }

  private async count (room: string): Promise<number> {
    const { adapter } = this
    return adapter.memberCount !== undefined ? await adapter.memberCount(room) : (await adapter.members(room)).length
  }
}
