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
 * Many users leaving at once (an instance shutting down, closing its adapter, or found dead) are
 * announced per room in one batch: a room that had at most `listLimit` members hears a
 * `user_left` for each, a bigger one a single `member_count` with the count after (one frame per
 * member for the whole batch, where one departure at a time would cost O(N²)).
 */
import type { Adapter, MaybePromise } from './adapter.js'
import { ServerMessage } from './protocol/names.js'

export interface MemberList {
  members: string[]
  memberCount: number
}

export interface MembersPage extends MemberList {
  room: string
  next?: string
}

/** Sends an ephemeral frame to a room's members (except `exceptUser`). */
export type Announce = (room: string, type: string, payload: unknown, exceptUser: string | undefined) => MaybePromise<unknown>

export type Departures = ReadonlyArray<readonly [room: string, userId: string]>

export class Presence {
  /** While set, departures are collected here instead of announced (see `collectDepartures`). */
  private collected: Array<readonly [string, string]> | undefined

  constructor (
    private readonly adapter: Adapter,
    private readonly listLimit: number,
    private readonly announce: Announce,
  ) {}

  /** A user's first connection joined `room` (after the adapter recorded it). */
  async joined (room: string, userId: string): Promise<void> {
    const count = await this.count(room)
    if (count <= 1) return // alone: nobody to tell
    if (count <= this.listLimit) await this.announce(room, ServerMessage.UserJoined, { userId }, userId)
    else if (count === this.listLimit + 1) await this.announce(room, ServerMessage.MemberCount, { memberCount: count }, userId)
  }

  /** A user's last connection left `room` (after the adapter recorded it). */
  async left (room: string, userId: string): Promise<void> {
    if (this.collected !== undefined) return void this.collected.push([room, userId])
    const count = await this.count(room)
    if (count === 0) return // nobody left to tell
    if (count < this.listLimit) await this.announce(room, ServerMessage.UserLeft, { userId }, undefined)
    else if (count === this.listLimit) await this.announce(room, ServerMessage.MemberCount, { memberCount: count }, undefined)
  }

  /** Several users left at once: per room, a `user_left` each while the room was small, else one `member_count`. */
  async leftMany (departures: Departures): Promise<void> {
    const byRoom = new Map<string, Set<string>>()
    for (const [room, userId] of departures) {
      const users = byRoom.get(room)
      if (users === undefined) byRoom.set(room, new Set([userId]))
      else users.add(userId)
    }
    await Promise.all([...byRoom].map(async ([room, users]) => {
      if (users.size === 1) return await this.left(room, [...users][0]!)
      const count = await this.count(room)
      if (count === 0) return
      if (count + users.size <= this.listLimit) {
        await Promise.all([...users].map((userId) => this.announce(room, ServerMessage.UserLeft, { userId }, undefined)))
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

  /** What `room_joined` carries: up to `listLimit` members and the count. */
  async list (room: string): Promise<MemberList> {
    const [listed, memberCount] = await Promise.all([this.adapter.members(room, this.listLimit), this.count(room)])
    const members = listed.length > this.listLimit ? listed.slice(0, this.listLimit) : listed
    // Counted and listed in two steps: never report fewer members than listed.
    return { members, memberCount: Math.max(memberCount, members.length) }
  }

  /** One page of `get_members`: sorted user ids after `after`, at most `limit` (capped at `listLimit`). */
  async page (room: string, after: string | undefined, limit: number | undefined): Promise<MembersPage> {
    const size = Math.min(limit ?? this.listLimit, this.listLimit)
    const all = (await this.adapter.members(room)).sort()
    let start = 0
    if (after !== undefined) {
      // First id greater than `after` (binary search: the list is sorted).
      let high = all.length
      while (start < high) {
        const mid = (start + high) >>> 1
        if (all[mid]! <= after) start = mid + 1
        else high = mid
      }
    }
    const members = all.slice(start, start + size)
    const page: MembersPage = { room, members, memberCount: all.length }
    if (start + size < all.length) page.next = members[members.length - 1]!
    return page
  }

  private async count (room: string): Promise<number> {
    const { adapter } = this
    return adapter.memberCount !== undefined ? await adapter.memberCount(room) : (await adapter.members(room)).length
  }
}
