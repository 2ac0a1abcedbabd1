/**
 * The default adapter: one process, zero setup. Presence, `seq` and a bounded history per room,
 * all in memory (`memory-stores.ts`). Delivery is synchronous: a broadcast reaches local sockets
 * before it returns, and every answer is synchronous, so the hub pays for no promise.
 */
import type { Adapter, AdapterHost, MembersAfter, PresenceJoin, PresenceLeave, Recovery, RoomPublish, StreamPosition } from '../adapter.js'
import { invalidOption } from '../errors.js'
import { MemoryHistory, RoomPresence } from './memory-stores.js'
import { MemoryPresenceStates } from './presence-states.js'

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
  /**
   * The last `seq` a room reached before this adapter started (e.g. the highest one the app's own
   * message store holds), read when the room's numbering starts: after a restart, or once the
   * room's history was forgotten. The room goes on from it instead of from 1, so the `seq`s an app
   * stored keep naming one message each (the epoch still changes: the frames themselves are gone).
   * Answers synchronously.
   * @default () => 0
   */
  resumeSeq?: (room: string) => number
}

export class MemoryAdapter implements Adapter {
  private host: AdapterHost | undefined
  private presence = new RoomPresence()
  presenceState = this.newStates()
  private history: MemoryHistory
  private readonly historyTtlMs: number
  private readonly resumeSeq: ((room: string) => number) | undefined
  private sweeper: NodeJS.Timeout | undefined

  constructor (options: MemoryAdapterOptions = {}) {
    const historySize = options.historySize ?? 1000
    this.historyTtlMs = options.historyTtlMs ?? 300_000
    if (!Number.isInteger(historySize) || historySize < 0) throw invalidOption('historySize', 'an integer ≥ 0', options.historySize)
    if (!(this.historyTtlMs > 0)) throw invalidOption('historyTtlMs', 'a number > 0', options.historyTtlMs)
    if (options.resumeSeq !== undefined && typeof options.resumeSeq !== 'function') throw invalidOption('resumeSeq', 'a function', options.resumeSeq)
    this.resumeSeq = options.resumeSeq
    this.history = new MemoryHistory({ historySize, historyTtlMs: this.historyTtlMs, resumeSeq: this.resumeSeq })
  }

  init (host: AdapterHost): void {
    this.host = host
    this.sweeper = setInterval(() => this.history.sweep(Date.now(), (room) => this.presence.has(room)), Math.min(this.historyTtlMs, 60_000))
    this.sweeper.unref()
  }

  close (): void {
    clearInterval(this.sweeper)
    this.presence = new RoomPresence()
    this.presenceState = this.newStates()
    this.history = new MemoryHistory({ historySize: 0, historyTtlMs: this.historyTtlMs, resumeSeq: this.resumeSeq })
  }

  publishToRoom (message: RoomPublish): number | undefined {
    const host = this.host!
    if (!message.durable) {
      host.deliverToRoom(message.room, Buffer.from(message.frame.head + message.frame.tail), undefined, message.except)
      return undefined
    }
    const { seq, data } = this.history.record(message.room, message.frame, message.except, message.idempotencyKey)
    if (data !== undefined) host.deliverToRoom(message.room, Buffer.from(data), seq, message.except)
    return seq
  }

  publishToUser (userId: string, data: string): void {
    this.host!.deliverToUser(userId, Buffer.from(data))
  }

  addMember (room: string, userId: string, connectionId: string): PresenceJoin {
    const firstForUser = this.presence.add(room, userId, connectionId)
    return firstForUser ? { firstForUser, version: this.presence.version(room) } : { firstForUser }
  }

  removeMember (room: string, userId: string, connectionId: string): PresenceLeave {
    this.presenceState.clear(room, userId, connectionId)
    const lastForUser = this.presence.remove(room, userId, connectionId)
    return lastForUser ? { lastForUser, version: this.presence.version(room) } : { lastForUser }
  }

  memberList (room: string, limit: number): MembersAfter {
    return this.presence.list(room, limit)
  }

  members (room: string, limit?: number): string[] {
    return this.presence.users(room, limit)
  }

  membersAfter (room: string, after: string | undefined, limit: number): MembersAfter {
    return this.presence.page(room, after, limit)
  }

  memberCount (room: string): number {
    return this.presence.count(room)
  }

  lastSeq (room: string): number {
    return this.history.lastSeq(room)
  }

  position (room: string): StreamPosition {
    return this.history.position(room)
  }

  recover (room: string, since: number, epoch?: string): Recovery {
    const history = this.history.read(room, since, epoch)
    return history.recovered ? { recovered: true, frames: history.frames } : { recovered: false, frames: [] }
  }

  historyBefore (room: string, before: number, limit: number): Recovery['frames'] {
    return this.history.page(room, before, limit)
  }

  private newStates (): MemoryPresenceStates {
    return new MemoryPresenceStates((room, userId, connectionId) => this.presence.hasConnection(room, userId, connectionId))
  }

  stats (): Record<string, unknown> {
    return { adapter: 'memory', presenceRooms: this.presence.size, historyRooms: this.history.size }
  }
}
