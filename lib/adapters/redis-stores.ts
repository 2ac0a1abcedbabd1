/**
 * Redis implementation of the history role (presence: `redis-presence.ts`), on the adapter's command connection.
 * Each multi-key step is a Lua script (`redis-scripts.ts`), so it is atomic and, with the keys of
 * one room under one hash tag, runs on Redis Cluster too.
 */
import type { Cluster, Redis, RedisCommander } from 'ioredis'
import type { Exclusions, StreamPosition } from '../adapter.js'
import type { RoomFrameParts } from '../protocol/stringify.js'
import type { History, HistoryFrame, HistoryStore } from './cluster-roles.js'
import { decodeExclusions, encodeExclusions } from './envelope.js'
import type { RedisKeys } from './redis-keys.js'
import * as scripts from './redis-scripts.js'
import * as stateScripts from './redis-state-scripts.js'

/** The adapter's scripts, as ioredis `defineCommand` adds them. */
interface Scripted {
  wsPublish(seqKey: string, logKey: string, epochKey: string, channel: string, head: string, tail: string, except: string, maxLen: number, ttlMs: number, seqTtlMs: number, publish: PublishCommand): Promise<number>
  wsPublishOnce(seqKey: string, logKey: string, epochKey: string, onceKey: string, channel: string, head: string, tail: string, except: string, maxLen: number, ttlMs: number, seqTtlMs: number, publish: PublishCommand): Promise<number>
  wsPosition(seqKey: string, logKey: string, epochKey: string, seqTtlMs: number): Promise<[number, string]>
  wsRecover(seqKey: string, logKey: string, epochKey: string, since: number, ttlMs: number, maxLen: number, epoch: string, seqTtlMs: number): Promise<Array<number | string>>
  wsAddMember(connsKey: string, usersKey: string, sortedKey: string, versionKey: string, connectionId: string, userId: string): Promise<number>
  wsRemoveMember(connsKey: string, usersKey: string, stateKey: string, sortedKey: string, versionKey: string, connectionId: string, userId: string): Promise<number>
  wsAddMembers(connsKey: string, usersKey: string, sortedKey: string, versionKey: string, ...connectionAndUserIds: string[]): Promise<number[]>
  wsRemoveMembers(connsKey: string, usersKey: string, stateKey: string, sortedKey: string, versionKey: string, ...connectionAndUserIds: string[]): Promise<number[]>
  wsMembersAfter(usersKey: string, sortedKey: string, versionKey: string, after: string, limit: number): Promise<[number, string[], number]>
  wsMemberList(usersKey: string, versionKey: string, limit: number): Promise<[number, number, string[]]>
  wsSetState(connsKey: string, stateKey: string, connectionId: string, userId: string, state: string): Promise<number>
  wsClearState(stateKey: string, connectionId: string, userId: string): Promise<[number, string | null]>
  wsHeartbeat(instancesKey: string, reapingKey: string, instanceId: string): Promise<number>
  wsClaimDead(instancesKey: string, reapingKey: string, timeoutMs: number, limit: number, self: string): Promise<string[]>
  wsRenewClaim(reapingKey: string, instanceId: string): Promise<number>
  wsHistoryPage(seqKey: string, logKey: string, before: number, limit: number): Promise<Array<number | string>>
}
export type CommandClient = RedisCommander & Scripted

/** Plain pub/sub on one Redis; sharded pub/sub (the channel's slot) on Redis Cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH'

/** Add the scripts to a command connection. */
export function defineScripts<C extends Redis | Cluster> (client: C): C & Scripted {
  client.defineCommand('wsPublish', { numberOfKeys: 3, lua: scripts.PUBLISH_DURABLE })
  client.defineCommand('wsPublishOnce', { numberOfKeys: 4, lua: scripts.PUBLISH_DURABLE_ONCE })
  client.defineCommand('wsPosition', { numberOfKeys: 3, lua: scripts.POSITION })
  client.defineCommand('wsRecover', { numberOfKeys: 3, lua: scripts.RECOVER })
  client.defineCommand('wsAddMember', { numberOfKeys: 4, lua: scripts.ADD_MEMBER })
  client.defineCommand('wsRemoveMember', { numberOfKeys: 5, lua: scripts.REMOVE_MEMBER })
  client.defineCommand('wsAddMembers', { numberOfKeys: 4, lua: scripts.ADD_MEMBERS })
  client.defineCommand('wsRemoveMembers', { numberOfKeys: 5, lua: scripts.REMOVE_MEMBERS })
  client.defineCommand('wsMembersAfter', { numberOfKeys: 3, lua: scripts.MEMBERS_AFTER })
  client.defineCommand('wsMemberList', { numberOfKeys: 2, lua: scripts.MEMBER_LIST })
  client.defineCommand('wsSetState', { numberOfKeys: 2, lua: stateScripts.SET_STATE })
  client.defineCommand('wsClearState', { numberOfKeys: 1, lua: stateScripts.CLEAR_STATE })
  client.defineCommand('wsHeartbeat', { numberOfKeys: 2, lua: scripts.HEARTBEAT })
  client.defineCommand('wsClaimDead', { numberOfKeys: 2, lua: scripts.CLAIM_DEAD })
  client.defineCommand('wsRenewClaim', { numberOfKeys: 1, lua: scripts.RENEW_CLAIM })
  client.defineCommand('wsHistoryPage', { numberOfKeys: 2, lua: scripts.HISTORY_PAGE })
  return client as C & Scripted
}

/** The command connection, once connected. */
export type CommandConnection = () => CommandClient

export interface RedisHistoryLimits {
  readonly historySize: number
  readonly historyTtlMs: number
  readonly sequenceTtlMs: number
}

/** `seq` in a counter, history in a Stream; a durable publish is one script (INCR, XADD, PUBLISH). */
export class RedisHistory implements HistoryStore {
  constructor (private readonly cmd: CommandConnection, private readonly keys: RedisKeys, private readonly limits: RedisHistoryLimits, private readonly publish: PublishCommand = 'PUBLISH') {}

  /** Not `async`: the hot path pays for no extra promise. */
  append (room: string, channel: string, frame: RoomFrameParts, except: Exclusions | undefined, idempotencyKey?: string): Promise<number> {
    const { historySize, historyTtlMs, sequenceTtlMs } = this.limits
    const encoded = encodeExclusions(except)
    if (idempotencyKey !== undefined) {
      return this.cmd().wsPublishOnce(this.keys.seq(room), this.keys.log(room), this.keys.epoch(room), this.keys.once(room, idempotencyKey), channel,
        frame.head, frame.tail, encoded, historySize, historyTtlMs, sequenceTtlMs, this.publish)
    }
    return this.cmd().wsPublish(this.keys.seq(room), this.keys.log(room), this.keys.epoch(room), channel,
      frame.head, frame.tail, encoded, historySize, historyTtlMs, sequenceTtlMs, this.publish)
  }

  async position (room: string): Promise<StreamPosition> {
    const [seq, epoch] = await this.cmd().wsPosition(this.keys.seq(room), this.keys.log(room), this.keys.epoch(room), this.limits.sequenceTtlMs)
    return { seq: Number(seq), epoch: String(epoch) }
  }

  async read (room: string, since: number, epoch?: string): Promise<History> {
    const { historyTtlMs, historySize, sequenceTtlMs } = this.limits
    const reply = await this.cmd().wsRecover(this.keys.seq(room), this.keys.log(room), this.keys.epoch(room), since, historyTtlMs, historySize, epoch ?? '', sequenceTtlMs)
    const last = Number(reply[1])
    const current = String(reply[2])
    if (reply[0] !== 1) return { recovered: false, last, epoch: current, frames: [] }
    const frames: HistoryFrame[] = []
    for (let i = 3; i + 1 < reply.length; i += 2) {
      frames.push({ seq: since + frames.length + 1, data: String(reply[i]), except: decodeExclusions(String(reply[i + 1])) })
    }
    return { recovered: true, last, epoch: current, frames }
  }

  async page (room: string, before: number, limit: number): Promise<HistoryFrame[]> {
    const reply = await this.cmd().wsHistoryPage(this.keys.seq(room), this.keys.log(room), before, limit)
    const frames: HistoryFrame[] = []
    for (let i = reply.length - 3; i >= 0; i -= 3) {
      frames.push({ seq: Number(reply[i]), data: String(reply[i + 1]), except: decodeExclusions(String(reply[i + 2])) })
    }
    return frames
  }
}
