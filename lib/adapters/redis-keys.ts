/**
 * Key and channel names of the Redis adapter.
 *
 * Room keys carry the hash tag `{r:<room>}` so one room's keys live in one cluster slot (room
 * names cannot contain braces).
 */
export class RedisKeys {
  /** Sorted set: instance id → last heartbeat. One hash tag with `reaping`, for the claim script. */
  readonly instances: string
  /** Sorted set: instance id claimed dead → when its survivor last renewed the claim. */
  readonly reaping: string

  constructor (readonly prefix: string) {
    this.instances = prefix + '{instances}'
    this.reaping = prefix + '{instances}:reaping'
  }

  seq (room: string): string { return this.prefix + '{r:' + room + '}:seq' }
  log (room: string): string { return this.prefix + '{r:' + room + '}:log' }
  /** The epoch of the room's numbering (see `StreamPosition`); lives and dies with `seq`. */
  epoch (room: string): string { return this.prefix + '{r:' + room + '}:epoch' }
  /** The record of a durable publish's idempotency key (its seq). */
  once (room: string, key: string): string { return this.prefix + '{r:' + room + '}:once:' + key }
  /** Hash: connection id → user id. */
  conns (room: string): string { return this.prefix + '{r:' + room + '}:conns' }
  /** Hash: user id → number of that user's connections in the room, cluster-wide. */
  users (room: string): string { return this.prefix + '{r:' + room + '}:users' }
  /** Sorted set (all scores 0): the room's user ids in byte order, for `get_members` pages. */
  sorted (room: string): string { return this.prefix + '{r:' + room + '}:sorted' }
  /** Counter: the room's presence version (see `PresenceLeave.version`), bumped by the member scripts. */
  pv (room: string): string { return this.prefix + '{r:' + room + '}:pv' }
  /** Hash: members' presence states (fields: see `redis-state-scripts.ts`). */
  state (room: string): string { return this.prefix + '{r:' + room + '}:state' }
  /** Set of membership records (`memberRecord`) held by an instance. */
  instance (instanceId: string): string { return this.prefix + 'instance:' + instanceId }
  /** In the room's hash tag: the durable-publish script publishes on it (one slot on Redis Cluster). */
  roomChannel (room: string): string { return this.prefix + 'room:{r:' + room + '}' }
  userChannel (userId: string): string { return this.prefix + 'user:' + userId }
}

/** One (room, user, connection) held by an instance, as stored in its set. */
export function memberRecord (room: string, userId: string, connectionId: string): string {
  return JSON.stringify([room, userId, connectionId])
}

export function parseMemberRecord (record: string): [room: string, userId: string, connectionId: string] | undefined {
  try {
    const value = JSON.parse(record) as unknown
    if (Array.isArray(value) && value.length === 3 && value.every((part) => typeof part === 'string')) {
      return value as [string, string, string]
    }
  } catch {}
  return undefined
}
