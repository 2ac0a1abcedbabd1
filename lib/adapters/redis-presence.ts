/**
 * Redis implementation of the presence role: per-room hashes (connection → user, user →
 * connection count), a set of membership records per instance, heartbeats and claims in sorted
 * sets. Bulk work (resync, reaping, leaving) is batched per room and sent in bounded chunks, so it
 * costs a few round trips and never holds the command connection long enough to starve the
 * heartbeat queued behind it.
 */
import type { MembersAfter } from '../adapter.js'
import type { Departure, Membership, PresenceStore } from './cluster-roles.js'
import { memberRecord, parseMemberRecord, type RedisKeys } from './redis-keys.js'
import type { CommandConnection } from './redis-stores.js'
import { RedisPresenceStates } from './redis-presence-state.js'

/** Memberships per chunk of bulk work: one chunk is in flight at a time. */
const CHUNK = 500


export class RedisPresence implements PresenceStore {
  readonly state: RedisPresenceStates

  constructor (private readonly cmd: CommandConnection, private readonly keys: RedisKeys) {
    this.state = new RedisPresenceStates(cmd, keys)
  }

  /** The room's presence version when it is the user's first connection there, else 0. */
  async add (instanceId: string, [room, userId, connectionId]: Membership): Promise<number> {
    const cmd = this.cmd()
    const [, version] = await Promise.all([
      cmd.sadd(this.keys.instance(instanceId), memberRecord(room, userId, connectionId)),
      cmd.wsAddMember(this.keys.conns(room), this.keys.users(room), this.keys.sorted(room), this.keys.pv(room), connectionId, userId),
    ])
    return Number(version)
  }

  /** The room's presence version when it was the user's last connection there, else 0. */
  async remove (instanceId: string, [room, userId, connectionId]: Membership): Promise<number> {
    const cmd = this.cmd()
    const [version] = await Promise.all([
      cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), this.keys.state(room), this.keys.sorted(room), this.keys.pv(room), connectionId, userId),
      cmd.srem(this.keys.instance(instanceId), memberRecord(room, userId, connectionId)),
    ])
    return Number(version)
  }

  /** Per member: the room's presence version when it was the user's first connection there, else 0. */
  async addMany (instanceId: string, members: readonly Membership[]): Promise<number[]> {
    const out: number[] = []
    for (let i = 0; i < members.length; i += CHUNK) {
      const chunk = members.slice(i, i + CHUNK)
      // The record first: should the room step fail, a later resync or reap still finds it.
      await this.cmd().sadd(this.keys.instance(instanceId), ...chunk.map((m) => memberRecord(...m)))
      out.push(...await this.perRoom(chunk, 'add'))
    }
    return out
  }

  /** Per member: the room's presence version when it was the user's last connection there, else 0. */
  async removeMany (instanceId: string, members: readonly Membership[]): Promise<number[]> {
    const out: number[] = []
    for (let i = 0; i < members.length; i += CHUNK) {
      const chunk = members.slice(i, i + CHUNK)
      out.push(...await this.perRoom(chunk, 'remove'))
      // The record last: a removal cut short leaves it for whoever finishes the job.
      await this.cmd().srem(this.keys.instance(instanceId), ...chunk.map((m) => memberRecord(...m)))
    }
    return out
  }

  async members (room: string, limit?: number): Promise<string[]> {
    // HRANDFIELD with a positive count: that many distinct fields at most, O(limit) not O(room).
    if (limit !== undefined) return await this.cmd().hrandfield(this.keys.users(room), limit) as string[]
    return await this.cmd().hkeys(this.keys.users(room))
  }

  async page (room: string, after: string | undefined, limit: number): Promise<MembersAfter> {
    const [count, members, version] = await this.cmd().wsMembersAfter(this.keys.users(room), this.keys.sorted(room), this.keys.pv(room), after ?? '', limit)
    return { members, count: Number(count), version: Number(version) }
  }

  async list (room: string, limit: number): Promise<MembersAfter> {
    const [count, version, members] = await this.cmd().wsMemberList(this.keys.users(room), this.keys.pv(room), limit)
    return { members, count: Number(count), version: Number(version) }
  }

  async count (room: string): Promise<number> {
    return await this.cmd().hlen(this.keys.users(room))
  }

  async held (instanceId: string): Promise<Membership[]> {
    return parseRecords(await this.cmd().smembers(this.keys.instance(instanceId)))
  }

  async removeInstance (instanceId: string, onLeft: (left: Departure[]) => void): Promise<void> {
    const key = this.keys.instance(instanceId)
    // Claimed dead by this survivor, or leaving on its own close (then there is no claim).
    const claimed = await this.renewClaim(instanceId)
    const records = await this.cmd().smembers(key)
    for (let i = 0; i < records.length; i += CHUNK) {
      // A claim withdrawn meanwhile means the instance beat again: it is alive and resyncs itself.
      if (i > 0 && claimed && !await this.renewClaim(instanceId)) return
      const chunk = records.slice(i, i + CHUNK)
      const members = parseRecords(chunk)
      const last = await this.perRoom(members, 'remove')
      await this.cmd().srem(key, ...chunk)
      onLeft(members.flatMap(([room, userId], n) => last[n]! > 0 ? [[room, userId, last[n]!] as const] : []))
    }
    await this.cmd().zrem(this.keys.reaping, instanceId)
  }

  async beat (instanceId: string): Promise<boolean> {
    return await this.cmd().wsHeartbeat(this.keys.instances, this.keys.reaping, instanceId) === 1
  }

  async claimDead (timeoutMs: number, limit: number, self: string): Promise<string[]> {
    return await this.cmd().wsClaimDead(this.keys.instances, this.keys.reaping, timeoutMs, limit, self)
  }

  async unregister (instanceId: string): Promise<void> {
    await this.cmd().zrem(this.keys.instances, instanceId)
  }

  /** Renew this survivor's claim on a dead instance; false when there is none (withdrawn, or never claimed). */
  private async renewClaim (instanceId: string): Promise<boolean> {
    return await this.cmd().wsRenewClaim(this.keys.reaping, instanceId) === 1
  }

  /** One script per room of `members` (its keys share a slot), all sent at once; one version (or 0) per member, in order. */
  private async perRoom (members: readonly Membership[], step: 'add' | 'remove'): Promise<number[]> {
    const cmd = this.cmd()
    const byRoom = new Map<string, number[]>()
    for (const [n, [room]] of members.entries()) {
      const indexes = byRoom.get(room)
      if (indexes === undefined) byRoom.set(room, [n])
      else indexes.push(n)
    }
    const out = new Array<number>(members.length).fill(0)
    await Promise.all([...byRoom].map(async ([room, indexes]) => {
      const args = indexes.flatMap((n) => [members[n]![2], members[n]![1]])
      const conns = this.keys.conns(room)
      const users = this.keys.users(room)
      const sorted = this.keys.sorted(room)
      const pv = this.keys.pv(room)
      const reply = step === 'add' ? await cmd.wsAddMembers(conns, users, sorted, pv, ...args) : await cmd.wsRemoveMembers(conns, users, this.keys.state(room), sorted, pv, ...args)
      for (const [i, n] of indexes.entries()) out[n] = Number(reply[i])
    }))
    return out
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
