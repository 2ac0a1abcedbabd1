/**
 * The memberships this instance holds: the truth it re-creates in Redis after an outage, what it
 * answers from while Redis is unreachable, and the reference count behind room subscriptions.
 */
export class LocalMembers {
  /** room → userId → connection ids */
  private readonly byRoom = new Map<string, Map<string, Set<string>>>()

  get rooms (): number {
    return this.byRoom.size
  }

  add (room: string, userId: string, connectionId: string): { firstInRoom: boolean, firstForUser: boolean } {
    let users = this.byRoom.get(room)
    const firstInRoom = users === undefined
    if (users === undefined) this.byRoom.set(room, users = new Map())
    let connections = users.get(userId)
    const firstForUser = connections === undefined
    if (connections === undefined) users.set(userId, connections = new Set())
    connections.add(connectionId)
    return { firstInRoom, firstForUser }
  }

  remove (room: string, userId: string, connectionId: string): { removed: boolean, lastInRoom: boolean, lastForUser: boolean } {
    const users = this.byRoom.get(room)
    const connections = users?.get(userId)
    if (users === undefined || connections === undefined || !connections.delete(connectionId)) {
      return { removed: false, lastInRoom: false, lastForUser: false }
    }
    const lastForUser = connections.size === 0
    if (lastForUser) users.delete(userId)
    const lastInRoom = users.size === 0
    if (lastInRoom) this.byRoom.delete(room)
    return { removed: true, lastInRoom, lastForUser }
  }

  has (room: string, userId: string, connectionId: string): boolean {
    return this.byRoom.get(room)?.get(userId)?.has(connectionId) ?? false
  }

  /** Distinct local users of a room. */
  users (room: string): string[] {
    const users = this.byRoom.get(room)
    return users === undefined ? [] : [...users.keys()]
  }

  * entries (): Generator<[room: string, userId: string, connectionId: string]> {
    for (const [room, users] of this.byRoom) {
      for (const [userId, connections] of users) {
        for (const connectionId of connections) yield [room, userId, connectionId]
      }
    }
  }
}
