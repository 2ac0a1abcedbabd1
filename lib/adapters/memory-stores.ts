/**
 * In-process presence and history: what `MemoryAdapter` keeps, and the same stores as
 * `ClusterAdapter` roles for several adapters in one process sharing them (a test cluster).
 * Everything answers synchronously.
 */
import { randomUUID } from 'node:crypto'
import type { Exclusions, MembersAfter, StreamPosition } from '../adapter.js'
import { joinRoomFrame, type RoomFrameParts } from '../protocol/stringify.js'
import type { Departure, History, HistoryFrame, HistoryStore, Membership, PresenceStore } from './cluster-roles.js'
import { encodeDurableEnvelope, encodeExclusions } from './envelope.js'
import { MemoryPresenceStates } from './presence-states.js'
import { RoomPresence } from './room-presence.js'

export { RoomPresence }

/** `RoomPresence` plus who holds what and heartbeats, for instances sharing one process. */
export class MemoryPresence implements PresenceStore {
  readonly rooms = new RoomPresence()
  readonly state = new MemoryPresenceStates((room, userId, connectionId) => this.rooms.hasConnection(room, userId, connectionId))
  /** instanceId → membership key → membership */
  private readonly byInstance = new Map<string, Map<string, Membership>>()
  private readonly beats = new Map<string, number>()

  add (instanceId: string, member: Membership): number | false {
    let held = this.byInstance.get(instanceId)
    if (held === undefined) this.byInstance.set(instanceId, held = new Map())
    held.set(JSON.stringify(member), member)
    return this.rooms.add(...member) ? this.rooms.version(member[0]) : false
  }

  remove (instanceId: string, member: Membership): number | boolean {
    this.byInstance.get(instanceId)?.delete(JSON.stringify(member))
    this.state.clear(...member)
    // An emptied room has no version left (and nobody to tell): plain true.
    return this.rooms.remove(...member) ? this.rooms.version(member[0]) || true : false
  }

  addMany (instanceId: string, members: readonly Membership[]): Array<number | false> {
    return members.map((member) => this.add(instanceId, member))
  }

  removeMany (instanceId: string, members: readonly Membership[]): Array<number | boolean> {
    return members.map((member) => this.remove(instanceId, member))
  }


  members (room: string, limit?: number): string[] {
    return this.rooms.users(room, limit)
  }

  page (room: string, after: string | undefined, limit: number): MembersAfter {
    return this.rooms.page(room, after, limit)
  }

  list (room: string, limit: number): MembersAfter {
    return this.rooms.list(room, limit)
  }

  count (room: string): number {
    return this.rooms.count(room)
  }

  held (instanceId: string): Membership[] {
    return [...this.byInstance.get(instanceId)?.values() ?? []]
  }

  removeInstance (instanceId: string, onLeft: (left: Departure[]) => void): void {
    const held = this.held(instanceId)
    this.byInstance.delete(instanceId)
    for (const member of held) this.state.clear(...member)
    const left: Departure[] = []
    for (const [room, userId, connectionId] of held) {
      if (this.rooms.remove(room, userId, connectionId)) left.push([room, userId, this.rooms.version(room) || undefined])
    }
    onLeft(left)
  }

  beat (instanceId: string): boolean {
    const added = !this.beats.has(instanceId)
    this.beats.set(instanceId, Date.now())
    return added
  }

  claimDead (timeoutMs: number, limit: number, self: string): string[] {
    const dead: string[] = []
    const oldest = Date.now() - timeoutMs
    for (const [instanceId, at] of this.beats) {
      if (dead.length >= limit) break
      if (instanceId === self || at > oldest) continue
      this.beats.delete(instanceId)
      dead.push(instanceId)
    }
    return dead
  }

  unregister (instanceId: string): void {
    this.beats.delete(instanceId)
  }
}

export interface MemoryHistoryLimits {
  readonly historySize: number
  readonly historyTtlMs: number
  /** The `seq` a room's new numbering continues from (`MemoryAdapterOptions.resumeSeq`). */
  readonly resumeSeq?: ((room: string) => number) | undefined
}

interface HistoryEntry { seq: number, data: string, at: number, except: Exclusions | undefined }

/**
 * Per-room sequence and a ring buffer of recent durable frames. The ring grows with the room's
 * traffic up to its capacity, so a room with one message costs one entry, not `historySize`.
 */
class RoomLog {
  seq = 0
  /** A new log is a new numbering: after a sweep, or a restart, the room's seq starts over. */
  readonly epoch = randomUUID().slice(0, 8)
  lastAt = 0
  /** idempotency key → seq, oldest first; as many as the ring keeps. */
  readonly keys = new Map<string, { seq: number, at: number }>()
  private readonly ring: HistoryEntry[] = []
  /** Index of the oldest entry once the ring is full (0 until then). */
  private start = 0

  constructor (private readonly capacity: number) {}

  append (entry: HistoryEntry): void {
    if (this.capacity === 0) return
    if (this.ring.length < this.capacity) {
      this.ring.push(entry)
    } else {
      this.ring[this.start] = entry
      this.start = (this.start + 1) % this.capacity
    }
  }

  /** Entries with seq > since, oldest first, or undefined when some of them are gone. */
  after (since: number, notBefore: number): HistoryEntry[] | undefined {
    const wanted = this.seq - since
    if (wanted <= 0) return []
    const length = this.ring.length
    if (wanted > length) return undefined
    const out: HistoryEntry[] = []
    for (let i = length - wanted; i < length; i++) {
      const entry = this.ring[(this.start + i) % length]!
      if (entry.at < notBefore) return undefined
      out.push(entry)
    }
    return out
  }

  /** The newest `limit` entries with seq < before, oldest first (seqs in the ring are contiguous, ending at `seq`). */
  olderThan (before: number, limit: number): HistoryEntry[] {
    const length = this.ring.length
    const end = Math.min(length, length - (this.seq - Math.min(before - 1, this.seq)))
    const out: HistoryEntry[] = []
    for (let i = Math.max(0, end - limit); i < end; i++) out.push(this.ring[(this.start + i) % length]!)
    return out
  }
}

/** Per-room `seq` and bounded history. `append` hands the envelope to `publish` in the same call. */
export class MemoryHistory implements HistoryStore {
  private readonly logs = new Map<string, RoomLog>()

  constructor (private readonly limits: MemoryHistoryLimits, private readonly publish: (channel: string, payload: string) => void = () => {}) {}

  get size (): number {
    return this.logs.size
  }

  /**
   * Sequence and keep a durable frame; returns its `seq` and its bytes with the `seq` spliced in.
   * `data` is undefined when `idempotencyKey` was already used (then `seq` is that frame's).
   */
  record (room: string, frame: RoomFrameParts, except: Exclusions | undefined, idempotencyKey?: string): { seq: number, data: string | undefined } {
    const log = this.log(room)
    const now = Date.now()
    if (idempotencyKey !== undefined) {
      const done = log.keys.get(idempotencyKey)
      if (done !== undefined && now - done.at <= this.limits.historyTtlMs) return { seq: done.seq, data: undefined }
    }
    const seq = ++log.seq
    const data = joinRoomFrame(frame, seq)
    log.lastAt = now
    log.append({ seq, data, at: now, except })
    if (idempotencyKey !== undefined) {
      log.keys.set(idempotencyKey, { seq, at: now })
      if (log.keys.size > Math.max(1, this.limits.historySize)) log.keys.delete(log.keys.keys().next().value!)
    }
    return { seq, data }
  }

  append (room: string, channel: string, frame: RoomFrameParts, except: Exclusions | undefined, idempotencyKey?: string): number {
    const { seq, data } = this.record(room, frame, except, idempotencyKey)
    if (data !== undefined) this.publish(channel, encodeDurableEnvelope(seq, encodeExclusions(except), data))
    return seq
  }

  lastSeq (room: string): number {
    return this.logs.get(room)?.seq ?? this.startOf(room)
  }

  position (room: string): StreamPosition {
    const log = this.log(room)
    return { seq: log.seq, epoch: log.epoch }
  }

  read (room: string, since: number, epoch?: string): History {
    const log = this.log(room)
    const last = log.seq
    if (since > last || (epoch !== undefined && epoch !== log.epoch)) return { recovered: false, last, epoch: log.epoch, frames: [] }
    const entries = log.after(since, Date.now() - this.limits.historyTtlMs)
    if (entries === undefined) return { recovered: false, last, epoch: log.epoch, frames: [] }
    return { recovered: true, last, epoch: log.epoch, frames: entries.map((entry) => ({ seq: entry.seq, data: entry.data, except: entry.except })) }
  }

  /** The room's log, created (a new epoch) on first use; the sweep forgets it with the room. */
  private log (room: string): RoomLog {
    let log = this.logs.get(room)
    if (log === undefined) {
      this.logs.set(room, log = new RoomLog(this.limits.historySize))
      log.seq = this.startOf(room)
    }
    return log
  }

  private startOf (room: string): number {
    const start = this.limits.resumeSeq?.(room) ?? 0
    if (!Number.isInteger(start) || start < 0) throw new TypeError(`resumeSeq("${room}") must return an integer ≥ 0; got ${String(start)}`)
    return start
  }

  page (room: string, before: number, limit: number): HistoryFrame[] {
    const entries = this.logs.get(room)?.olderThan(before, limit) ?? []
    return entries.map((entry) => ({ seq: entry.seq, data: entry.data, except: entry.except }))
  }

  /** Forget the history and `seq` of rooms not `occupied` once their newest message has expired. */
  sweep (now: number, occupied: (room: string) => boolean): void {
    for (const [room, log] of this.logs) {
      if (!occupied(room) && now - log.lastAt > this.limits.historyTtlMs) this.logs.delete(room)
    }
  }
}
