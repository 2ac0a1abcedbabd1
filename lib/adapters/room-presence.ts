/** In-process presence of rooms: who is in which room, through which connections (memory stores). */

/**
 * room → userId → connection ids, and (once a room is paged) its user ids in sorted order, kept
 * up to date on each arrival and departure so a page costs a binary search, not a sort.
 */
export class RoomPresence {
  private readonly byRoom = new Map<string, Map<string, Set<string>>>()
  private readonly sorted = new Map<string, string[]>()
  /** room → presence version: grows with each change of the room's users (see `PresenceLeave.version`). */
  private readonly versions = new Map<string, number>()
  /**
   * Above every version of an emptied room (whose entry is dropped): the next versions of any room
   * start above it. Starts from the clock (µs), so a restarted process goes on above the versions
   * clients saw from the one before (short of a million changes a second).
   */
  private retired = Date.now() * 1000

  get size (): number {
    return this.byRoom.size
  }

  /** True when it is the user's first connection in the room. */
  add (room: string, userId: string, connectionId: string): boolean {
    let users = this.byRoom.get(room)
    if (users === undefined) this.byRoom.set(room, users = new Map())
    const connections = users.get(userId)
    if (connections === undefined) {
      users.set(userId, new Set([connectionId]))
      const order = this.sorted.get(room)
      if (order !== undefined) order.splice(firstAfter(order, userId), 0, userId)
      this.bump(room)
      return true
    }
    connections.add(connectionId)
    return false
  }

  /** True when it was the user's last connection in the room. */
  remove (room: string, userId: string, connectionId: string): boolean {
    const users = this.byRoom.get(room)
    const connections = users?.get(userId)
    if (users === undefined || connections === undefined || !connections.delete(connectionId)) return false
    if (connections.size > 0) return false
    users.delete(userId)
    const order = this.sorted.get(room)
    if (order !== undefined) order.splice(firstAfter(order, userId) - 1, 1)
    this.bump(room)
    if (users.size === 0) {
      this.byRoom.delete(room)
      this.sorted.delete(room)
    }
    return true
  }

  /** Up to `limit` user ids after `after`, in sorted order, and how many users the room has. */
  page (room: string, after: string | undefined, limit: number): { members: string[], count: number, version: number } {
    const users = this.byRoom.get(room)
    if (users === undefined) return { members: [], count: 0, version: 0 }
    let order = this.sorted.get(room)
    if (order === undefined) this.sorted.set(room, order = [...users.keys()].sort())
    const start = after === undefined ? 0 : firstAfter(order, after)
    return { members: order.slice(start, start + limit), count: order.length, version: this.version(room) }
  }

  /** Distinct users of the room; with `limit`, the first that many (in arrival order). */
  users (room: string, limit = Infinity): string[] {
    const users = this.byRoom.get(room)
    if (users === undefined) return []
    if (limit >= users.size) return [...users.keys()]
    const out: string[] = []
    for (const userId of users.keys()) {
      if (out.length >= limit) break
      out.push(userId)
    }
    return out
  }

  /** The room's presence version (0 for an empty room). */
  version (room: string): number {
    return this.versions.get(room) ?? 0
  }

  /** Up to `limit` users (as `users`), the count and the version, in one step. */
  list (room: string, limit: number): { members: string[], count: number, version: number } {
    return { members: this.users(room, limit), count: this.count(room), version: this.version(room) }
  }

  count (room: string): number {
    return this.byRoom.get(room)?.size ?? 0
  }

  hasConnection (room: string, userId: string, connectionId: string): boolean {
    return this.byRoom.get(room)?.get(userId)?.has(connectionId) === true
  }

  has (room: string): boolean {
    return this.byRoom.has(room)
  }

  /** An emptied room's entry is dropped; its next versions still stay above those clients saw before. */
  private bump (room: string): void {
    const next = Math.max(this.versions.get(room) ?? this.retired, this.retired) + 1
    if (this.byRoom.get(room)?.size !== 0) return void this.versions.set(room, next)
    this.versions.delete(room)
    this.retired = Math.max(this.retired, next)
  }
}

/** Index of the first id greater than `id` in a sorted list (binary search). */
function firstAfter (sorted: readonly string[], id: string): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (sorted[mid]! <= id) low = mid + 1
    else high = mid
  }
  return low
}
