/**
 * Key and channel names of the Redis adapter, and the pub/sub envelope of a room frame.
 *
 * Room keys carry the hash tag `{r:<room>}` so one room's keys live in one cluster slot (room
 * names cannot contain braces). Room frames travel as `<seq>\n<except>\n<frame>`: the receiver
 * slices the frame out without parsing it; `seq` is empty for non-durable frames and `except` is
 * empty or the exclusions as JSON.
 */
import type { Exclusions } from '../adapter.js'

export class RedisKeys {
  readonly instances: string

  constructor (readonly prefix: string) {
    this.instances = prefix + 'instances'
  }

  seq (room: string): string { return this.prefix + '{r:' + room + '}:seq' }
  log (room: string): string { return this.prefix + '{r:' + room + '}:log' }
  /** Hash: connection id → user id. */
  conns (room: string): string { return this.prefix + '{r:' + room + '}:conns' }
  /** Hash: user id → number of that user's connections in the room, cluster-wide. */
  users (room: string): string { return this.prefix + '{r:' + room + '}:users' }
  /** Set of membership records (`memberRecord`) held by an instance. */
  instance (instanceId: string): string { return this.prefix + 'instance:' + instanceId }
  roomChannel (room: string): string { return this.prefix + 'room:' + room }
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

export function encodeExclusions (except: Exclusions | undefined): string {
  if (except === undefined) return ''
  const users = except.users !== undefined && except.users.length > 0 ? except.users : undefined
  const connections = except.connections !== undefined && except.connections.length > 0 ? except.connections : undefined
  if (users === undefined && connections === undefined) return ''
  return JSON.stringify({ users, connections })
}

export interface RoomEnvelope {
  readonly seq: number | undefined
  readonly except: Exclusions | undefined
  /** The frame's bytes, copied once out of the pub/sub reply (the parser may reuse its buffer). */
  readonly data: Buffer
}

const NEWLINE = 10

export function parseRoomEnvelope (message: Buffer): RoomEnvelope | undefined {
  const first = message.indexOf(NEWLINE)
  const second = first < 0 ? -1 : message.indexOf(NEWLINE, first + 1)
  if (second < 0) return undefined
  const seq = first === 0 ? undefined : Number(message.toString('latin1', 0, first))
  if (seq !== undefined && !Number.isSafeInteger(seq)) return undefined
  let except: Exclusions | undefined
  if (second > first + 1) {
    try {
      except = JSON.parse(message.toString('utf8', first + 1, second)) as Exclusions
    } catch {
      return undefined
    }
  }
  return { seq, except, data: Buffer.from(message.subarray(second + 1)) }
}

export function encodeRoomEnvelope (except: Exclusions | undefined, frame: string): string {
  return '\n' + encodeExclusions(except) + '\n' + frame
}
