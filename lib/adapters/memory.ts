/**
 * The default adapter: one process, zero setup. Presence, `seq` and a bounded history per room,
 * all in memory. Delivery is synchronous: a broadcast reaches local sockets before it returns.
 */
import type { Adapter, AdapterHost, Exclusions, PresenceJoin, Recovery, RoomPublish } from '../adapter.js'
import { joinRoomFrame } from '../protocol/stringify.js'
import { invalidOption } from '../errors.js'

export interface MemoryAdapterOptions {
  /**
   * Durable messages kept per room for recovery.
   * @default 1000
   */
  historySize?: number
  /**
   * How long (ms) a durable message stays recoverable; a room with no members forgets its
   * history and `seq` once its newest message is older than this.
   * @default 300000 (5 minutes)
   */
  historyTtlMs?: number
}

interface HistoryEntry { seq: number, data: string, at: number, except: Exclusions | undefined }

/**
 * Per-room sequence and a ring buffer of recent durable frames. The ring grows with the room's
 * traffic up to its capacity, so a room with one message costs one entry, not `historySize`.
 */
class RoomLog {
  seq = 0
  lastAt = 0
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
}

export class MemoryAdapter implements Adapter {
  private host: AdapterHost | undefined
  /** room → userId → connection ids */
  private readonly presence = new Map<string, Map<string, Set<string>>>()
  private readonly logs = new Map<string, RoomLog>()
  private readonly historySize: number
  private readonly historyTtlMs: number
  private sweeper: NodeJS.Timeout | undefined

  constructor (options: MemoryAdapterOptions = {}) {
    this.historySize = options.historySize ?? 1000
    this.historyTtlMs = options.historyTtlMs ?? 300_000
    if (!Number.isInteger(this.historySize) || this.historySize < 0) throw invalidOption('historySize', 'an integer ≥ 0', options.historySize)
    if (!(this.historyTtlMs > 0)) throw invalidOption('historyTtlMs', 'a number > 0', options.historyTtlMs)
  }

  init (host: AdapterHost): void {
    this.host = host
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(this.historyTtlMs, 60_000))
    this.sweeper.unref()
  }

  close (): void {
    clearInterval(this.sweeper)
    this.presence.clear()
    this.logs.clear()
  }

  publishToRoom (message: RoomPublish): number | undefined {
    const host = this.host!
    if (!message.durable) {
      host.deliverToRoom(message.room, Buffer.from(message.frame.head + message.frame.tail), undefined, message.except)
      return undefined
    }
    let log = this.logs.get(message.room)
    if (log === undefined) {
      log = new RoomLog(this.historySize)
      this.logs.set(message.room, log)
    }
    const seq = ++log.seq
    const data = joinRoomFrame(message.frame, seq)
    log.lastAt = Date.now()
    log.append({ seq, data, at: log.lastAt, except: message.except })
    host.deliverToRoom(message.room, Buffer.from(data), seq, message.except)
    return seq
  }

  publishToUser (userId: string, data: string): void {
    this.host!.deliverToUser(userId, Buffer.from(data))
  }

  addMember (room: string, userId: string, connectionId: string): PresenceJoin {
    let users = this.presence.get(room)
    if (users === undefined) {
      users = new Map()
      this.presence.set(room, users)
    }
    const connections = users.get(userId)
    if (connections === undefined) {
      users.set(userId, new Set([connectionId]))
      return { firstForUser: true }
    }
    connections.add(connectionId)
    return { firstForUser: false }
  }

  removeMember (room: string, userId: string, connectionId: string): boolean {
    const users = this.presence.get(room)
    const connections = users?.get(userId)
    if (users === undefined || connections === undefined || !connections.delete(connectionId)) return false
    if (connections.size > 0) return false
    users.delete(userId)
    if (users.size === 0) this.presence.delete(room)
    return true
  }

  members (room: string): string[] {
    const users = this.presence.get(room)
    return users === undefined ? [] : [...users.keys()]
  }

  lastSeq (room: string): number {
    return this.logs.get(room)?.seq ?? 0
  }

  recover (room: string, since: number): Recovery {
    const log = this.logs.get(room)
    const last = log?.seq ?? 0
    if (since > last) return { recovered: false, frames: [] }
    const entries = log === undefined ? [] : log.after(since, Date.now() - this.historyTtlMs)
    if (entries === undefined) return { recovered: false, frames: [] }
    return { recovered: true, frames: entries.map((entry) => ({ seq: entry.seq, data: entry.data, except: entry.except })) }
  }

  stats (): Record<string, unknown> {
    return { adapter: 'memory', presenceRooms: this.presence.size, historyRooms: this.logs.size }
  }

  /** Forget the history and `seq` of rooms nobody is in once their newest message has expired. */
  private sweep (now: number): void {
    for (const [room, log] of this.logs) {
      if (!this.presence.has(room) && now - log.lastAt > this.historyTtlMs) this.logs.delete(room)
    }
  }
}
