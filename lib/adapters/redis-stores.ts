/**
 * Redis implementations of the presence and history roles, on the adapter's command connection.
 * Each multi-key step is a Lua script (`redis-scripts.ts`), so it is atomic and, with the keys of
 * one room under one hash tag, runs on Redis Cluster too.
 */
import type { Redis } from 'ioredis'
import type { Exclusions } from '../adapter.js'
import type { RoomFrameParts } from '../protocol/stringify.js'
import type { History, HistoryFrame, HistoryStore, Membership, PresenceStore } from './cluster-roles.js'
import { decodeExclusions, encodeExclusions } from './envelope.js'
import { memberRecord, parseMemberRecord, type RedisKeys } from './redis-keys.js'
import * as scripts from './redis-scripts.js'

/** The adapter's scripts, as ioredis `defineCommand` adds them. */
interface Scripted {
  wsPublish(seqKey: string, logKey: string, channel: string, head: string, tail: string, except: string, maxLen: number, ttlMs: number, seqTtlMs: number): Promise<number>
  wsRecover(seqKey: string, logKey: string, since: number, ttlMs: number, maxLen: number): Promise<Array<number | string>>
  wsAddMember(connsKey: string, usersKey: string, connectionId: string, userId: string): Promise<number>
  wsRemoveMember(connsKey: string, usersKey: string, connectionId: string, userId: string): Promise<number>
  wsHeartbeat(instancesKey: string, instanceId: string): Promise<number>
  wsClaimDead(instancesKey: string, timeoutMs: number, limit: number, self: string): Promise<string[]>
  wsTakeSet(key: string): Promise<string[]>
}
export type CommandClient = Redis & Scripted

/** Add the scripts to a command connection. */
export function defineScripts (client: Redis): CommandClient {
  client.defineCommand('wsPublish', { numberOfKeys: 2, lua: scripts.PUBLISH_DURABLE })
  client.defineCommand('wsRecover', { numberOfKeys: 2, lua: scripts.RECOVER })
  client.defineCommand('wsAddMember', { numberOfKeys: 2, lua: scripts.ADD_MEMBER })
  client.defineCommand('wsRemoveMember', { numberOfKeys: 2, lua: scripts.REMOVE_MEMBER })
  client.defineCommand('wsHeartbeat', { numberOfKeys: 1, lua: scripts.HEARTBEAT })
  client.defineCommand('wsClaimDead', { numberOfKeys: 1, lua: scripts.CLAIM_DEAD })
  client.defineCommand('wsTakeSet', { numberOfKeys: 1, lua: scripts.TAKE_SET })
  return client as CommandClient
}

/** The command connection, once connected. */
export type CommandConnection = () => CommandClient

/** Per-room hashes (connection → user, user → connection count), a set of records per instance, heartbeats in a sorted set. */
export class RedisPresence implements PresenceStore {
  constructor (private readonly cmd: CommandConnection, private readonly keys: RedisKeys) {}

  async add (instanceId: string, [room, userId, connectionId]: Membership): Promise<boolean> {
    const cmd = this.cmd()
    const [, first] = await Promise.all([
      cmd.sadd(this.keys.instance(instanceId), memberRecord(room, userId, connectionId)),
      cmd.wsAddMember(this.keys.conns(room), this.keys.users(room), connectionId, userId),
    ])
    return first === 1
  }

  async remove (instanceId: string, [room, userId, connectionId]: Membership): Promise<boolean> {
    const cmd = this.cmd()
    const [last] = await Promise.all([
      cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), connectionId, userId),
      cmd.srem(this.keys.instance(instanceId), memberRecord(room, userId, connectionId)),
    ])
    return last === 1
  }

  async members (room: string, limit?: number): Promise<string[]> {
    // HRANDFIELD with a positive count: that many distinct fields at most, O(limit) not O(room).
    if (limit !== undefined) return await this.cmd().hrandfield(this.keys.users(room), limit) as string[]
    return await this.cmd().hkeys(this.keys.users(room))
  }

  async count (room: string): Promise<number> {
    return await this.cmd().hlen(this.keys.users(room))
  }

  async held (instanceId: string): Promise<Membership[]> {
    return parseRecords(await this.cmd().smembers(this.keys.instance(instanceId)))
  }

  async removeInstance (instanceId: string): Promise<Array<readonly [string, string]>> {
    const cmd = this.cmd()
    const left: Array<readonly [string, string]> = []
    for (const [room, userId, connectionId] of parseRecords(await cmd.wsTakeSet(this.keys.instance(instanceId)))) {
      if (await cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), connectionId, userId) === 1) left.push([room, userId])
    }
    return left
  }

  async beat (instanceId: string): Promise<boolean> {
    return await this.cmd().wsHeartbeat(this.keys.instances, instanceId) === 1
  }

  async claimDead (timeoutMs: number, limit: number, self: string): Promise<string[]> {
    return await this.cmd().wsClaimDead(this.keys.instances, timeoutMs, limit, self)
  }

  async unregister (instanceId: string): Promise<void> {
    await this.cmd().zrem(this.keys.instances, instanceId)
  }
}

export interface RedisHistoryLimits {
  readonly historySize: number
  readonly historyTtlMs: number
  readonly sequenceTtlMs: number
}

/** `seq` in a counter, history in a Stream; a durable publish is one script (INCR, XADD, PUBLISH). */
export class RedisHistory implements HistoryStore {
  constructor (private readonly cmd: CommandConnection, private readonly keys: RedisKeys, private readonly limits: RedisHistoryLimits) {}

  /** Not `async`: the hot path pays for no extra promise. */
  append (room: string, channel: string, frame: RoomFrameParts, except: Exclusions | undefined): Promise<number> {
    const { historySize, historyTtlMs, sequenceTtlMs } = this.limits
    return this.cmd().wsPublish(this.keys.seq(room), this.keys.log(room), channel,
      frame.head, frame.tail, encodeExclusions(except), historySize, historyTtlMs, sequenceTtlMs)
  }

  async lastSeq (room: string): Promise<number> {
    return Number(await this.cmd().get(this.keys.seq(room)) ?? 0)
  }

  async read (room: string, since: number): Promise<History> {
    const reply = await this.cmd().wsRecover(this.keys.seq(room), this.keys.log(room), since, this.limits.historyTtlMs, this.limits.historySize)
    const last = Number(reply[1])
    if (reply[0] !== 1) return { recovered: false, last, frames: [] }
    const frames: HistoryFrame[] = []
    for (let i = 2; i + 1 < reply.length; i += 2) {
      frames.push({ seq: since + frames.length + 1, data: String(reply[i]), except: decodeExclusions(String(reply[i + 1])) })
    }
    return { recovered: true, last, frames }
  }
}

function parseRecords (records: readonly string[]): Membership[] {
  const out: Membership[] = []
  for (const record of records) {
    const member = parseMemberRecord(record)
    if (member !== undefined) out.push(member)
  }
  return out
}
