/**
 * Every delivery, with flow control: publishes through the adapter, frames for one connection,
 * and (as the adapter's host) what reached this instance for local rooms and users. A broadcast
 * is framed once and the same bytes go to every recipient; the per-recipient loop stays minimal.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Adapter, AdapterHost, Exclusions, MaybePromise, RoomDelivery, StreamPosition } from './adapter.js'
import type { Catalog } from './catalog.js'
import { CloseCode } from './protocol/codes.js'
import type { WsErrorCode } from './errors.js'
import type { Connection, HeldFrame } from './connection.js'
import { CONTROL_MARK } from './control-message.js'
import type { BroadcastOptions, ServerMessageDef } from './define.js'
import type { Disconnect } from './expiry.js'
import { encodeFrame, roomFrameParts } from './protocol/stringify.js'
import type { ResolvedOptions } from './options.js'
import type { Registry } from './registry.js'
import { createOutgoingCheck, type OutgoingCheck } from './outgoing-check.js'
import { assertRoomName } from './room-name.js'
import { beginBurst, OutgoingFrame } from './ws-frame.js'
import { ServerMessage } from './protocol/names.js'
import { toExclusions } from './exclusions.js'

/** Error texts echo client input (keys, type names): clipped so an error is never much bigger than this. */
const MAX_ERROR_TEXT = 200
/** How often a replay waiting for a slow reader's buffer to drain looks again. */
const DRAIN_POLL_MS = 10

type DeliveryOptions = Pick<ResolvedOptions, 'highWaterMark' | 'slowConsumerGraceMs' | 'validateOutgoing'>

export class Delivery implements AdapterHost {
  messagesIn = 0
  messagesOut = 0
  framesDropped = 0
  slowConsumerCloses = 0
  readonly recoveries = { recovered: 0, notRecovered: 0 }
  readonly errorCounts: Partial<Record<WsErrorCode, number>> = {}
  /** Applies a server-side control that arrived on a user's channel (set by the hub; see control.ts). */
  control: ((userId: string, data: Buffer) => void) | undefined = undefined
  /** Tells a room's local members its stream restarted (set by the hub; see membership.ts). */
  reset: ((room: string, position: StreamPosition) => void) | undefined = undefined
  /** Development mode: every outgoing payload against its schema (`validateOutgoing`). */
  private readonly check: OutgoingCheck | undefined
  /** Frames of known types received, by type (counted by the dispatcher). */
  readonly inByType: Record<string, number> = {}
  /** Frames written, by type: counted once per delivery loop from `messagesOut`, never per recipient. */
  readonly outByType: Record<string, number> = {}

  constructor (
    readonly instanceId: string,
    readonly log: FastifyBaseLogger,
    private readonly registry: Registry,
    private readonly adapter: Adapter,
    private readonly catalog: Catalog,
    private readonly options: DeliveryOptions,
    /** Closes a slow consumer (the hub's disconnect: it also forgets the connection). */
    private readonly disconnect: Disconnect,
    /** Announce an arrival or a departure the adapter reports (presence.ts decides what the room hears). */
    private readonly announce: {
      joined(room: string, userId: string, version?: number): Promise<void>
      left(room: string, userId: string, version?: number): Promise<void>
      leftMany(departures: ReadonlyArray<readonly [room: string, userId: string, version?: number]>): Promise<void>
    },
  ) {
    this.check = options.validateOutgoing ? createOutgoingCheck(catalog) : undefined
  }

  // ── publishing (through the adapter, to every instance) ───────────────────

  /** Deliver a server message to a room through the adapter; encoded once for every recipient. */
  publish (room: string, type: string, payload: unknown, durable: boolean, except: Exclusions | undefined, idempotencyKey?: string): MaybePromise<number | undefined> {
    this.check?.(type, payload)
    return this.adapter.publishToRoom({ room, frame: roomFrameParts(type, room, payload), durable, except, idempotencyKey })
  }

  /** App-facing broadcast: durability comes from the message's declaration. */
  broadcast (room: string, type: string, payload: unknown, options?: BroadcastOptions): MaybePromise<number | undefined> {
    const def = this.declared(type)
    assertRoomName(room)
    return this.publish(room, type, payload, def.durable, toExclusions(options), options?.idempotencyKey)
  }

  sendToUser (userId: string, type: string, payload: unknown): MaybePromise<void> {
    this.declared(type)
    this.check?.(type, payload)
    return this.adapter.publishToUser(userId, encodeFrame(type, payload))
  }

  /** The declaration of a server message type app code asked to send; unknown types are a bug in the app. */
  declared (type: string): ServerMessageDef {
    const def = this.catalog.server.get(type)
    if (def === undefined) throw new TypeError(`Unknown server message type "${type}": declare it with defineProtocol().server()`)
    return def
  }

  // ── one connection ────────────────────────────────────────────────────────

  /** A frame for one connection (replies, greetings, errors): written even over the high-water mark. */
  send (connection: Connection, type: string, payload: unknown, id?: string): void {
    this.check?.(type, payload)
    const before = this.messagesOut
    this.writeFrame(connection, new OutgoingFrame(Buffer.from(encodeFrame(type, payload, id))), true)
    this.countOut(type, before)
  }

  /** A stored room frame for one connection (recovered, or held during its join): never dropped. */
  writeStored (connection: Connection, data: Buffer): void {
    const before = this.messagesOut
    this.writeFrame(connection, new OutgoingFrame(data), true)
    this.countOut(frameType(data), before)
  }

  sendError (connection: Connection, code: WsErrorCode, message: string, id: string | undefined, details?: ReadonlyArray<{ path: string, message: string }>): void {
    this.errorCounts[code] = (this.errorCounts[code] ?? 0) + 1
    const payload = details === undefined
      ? { code, message: clip(message) }
      : { code, message: clip(message), details: details.map((d) => ({ path: clip(d.path), message: clip(d.message) })) }
    this.send(connection, ServerMessage.Error, payload, id)
  }

  /**
   * Write with flow control: over the high-water mark frames are dropped (`force`: written
   * anyway); past the grace period, the connection is closed.
   */
  writeFrame (connection: Connection, out: OutgoingFrame, force = false): boolean {
    const written = connection.write(out, this.options.highWaterMark, force)
    if (written) this.messagesOut++
    else if (!connection.closed) this.framesDropped++
    else return false
    if (connection.overSince !== 0 && Date.now() - connection.overSince > this.options.slowConsumerGraceMs) {
      connection.log.warn({ dropped: connection.dropped }, 'closing slow consumer')
      this.slowConsumerCloses++
      this.disconnect(connection, CloseCode.TryAgainLater, 'Slow consumer')
    }
    return written
  }

  /**
   * Whether a replayed frame may be written now: at once (no promise) while the buffer is under the
   * mark, else once it has drained to half of it. False when it closed meanwhile, or did not drain
   * within the grace period: then it is closed as a slow consumer.
   */
  roomToWrite (connection: Connection): boolean | Promise<boolean> {
    if (connection.socket.bufferedAmount <= this.options.highWaterMark) return !connection.closed
    return this.drained(connection)
  }

  private async drained (connection: Connection): Promise<boolean> {
    const { highWaterMark, slowConsumerGraceMs } = this.options
    const deadline = Date.now() + slowConsumerGraceMs
    while (!connection.closed && connection.socket.bufferedAmount > highWaterMark / 2) {
      if (Date.now() > deadline) {
        connection.log.warn('closing slow consumer')
        this.disconnect(connection, CloseCode.TryAgainLater, 'Slow consumer')
        return false
      }
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS))
    }
    return !connection.closed
  }

  // ── AdapterHost: deliveries that reached this instance ────────────────────

  deliverToRoom (room: string, data: Buffer, seq: number | undefined, except: Exclusions | undefined): void {
    const members = this.registry.rooms.get(room)
    if (members === undefined) return
    const out = new OutgoingFrame(data)
    const before = this.messagesOut
    for (const connection of members) {
      if (except !== undefined && isExcluded(connection, except)) continue
      if (seq !== undefined && connection.replayedUpTo !== undefined && alreadyReplayed(connection, connection.replayedUpTo, room, seq)) continue
      // A join in progress holds the room's live frames until its reply is out (membership.ts).
      if (connection.holding !== undefined) {
        const held = connection.holding.get(room)
        if (held !== undefined) {
          this.hold(connection, room, held, data, seq)
          continue
        }
      }
      this.deliverTo(connection, room, out)
    }
    this.countOut(frameType(data), before)
  }

  roomReset (room: string, position: StreamPosition): void {
    this.reset?.(room, position)
  }

  /** A room frame for one member, under flow control; a dropped one is a gap its next join of the room may recover. */
  deliverTo (connection: Connection, room: string, out: OutgoingFrame): void {
    if (!this.writeFrame(connection, out) && !connection.closed) (connection.gaps ??= new Set()).add(room)
  }

  /** A frame held during a join, released to its joiner: `deliverTo`, counted by type (`deliverToRoom` counts its own loop). */
  releaseHeld (connection: Connection, room: string, data: Buffer): void {
    const before = this.messagesOut
    this.deliverTo(connection, room, new OutgoingFrame(data))
    this.countOut(frameType(data), before)
  }

  /** Held frames count against the high-water mark too: beyond it they are dropped as a live delivery would be. */
  private hold (connection: Connection, room: string, held: HeldFrame[], data: Buffer, seq: number | undefined): void {
    if (connection.heldBytes + connection.socket.bufferedAmount + data.length > this.options.highWaterMark) {
      this.framesDropped++
      connection.dropped++
      ;(connection.gaps ??= new Set()).add(room)
      return
    }
    connection.heldBytes += data.length
    held.push({ data, seq })
  }

  deliverBurst (frames: ReadonlyArray<RoomDelivery>): void {
    if (frames.length > 1) beginBurst()
    for (const frame of frames) this.deliverToRoom(frame.room, frame.data, frame.seq, frame.except)
  }

  deliverToUser (userId: string, data: Buffer): void {
    if (data[0] === CONTROL_MARK) {
      this.control?.(userId, data)
      return
    }
    const connections = this.registry.users.get(userId)
    if (connections === undefined) return
    const out = new OutgoingFrame(data)
    const before = this.messagesOut
    for (const connection of connections) {
      if (connection.greeted) this.writeFrame(connection, out)
    }
    this.countOut(frameType(data), before)
  }

  /** A join with `since`: counts its outcome, returns it. */
  countRecovery (recovered: boolean): boolean {
    this.recoveries[recovered ? 'recovered' : 'notRecovered']++
    return recovered
  }

  private countOut (type: string, before: number): void {
    if (this.messagesOut !== before) this.outByType[type] = (this.outByType[type] ?? 0) + this.messagesOut - before
  }

  userLeft (room: string, userId: string, version?: number): void {
    this.announce.left(room, userId, version).catch((err: unknown) => this.log.error({ err, room }, 'user_left delivery failed'))
  }

  usersLeft (departures: ReadonlyArray<readonly [room: string, userId: string, version?: number]>): Promise<void> {
    return this.announce.leftMany(departures)
  }

  userJoined (room: string, userId: string, version?: number): void {
    this.announce.joined(room, userId, version).catch((err: unknown) => this.log.error({ err, room }, 'user_joined delivery failed'))
  }
}

/** The type of an encoded frame: every frame starts with `{"type":"<type>"` (protocol/stringify.ts). */
function frameType (data: Buffer): string {
  const end = data.indexOf(0x22, TYPE_START)
  return end < 0 ? 'unknown' : data.toString('latin1', TYPE_START, end)
}
const TYPE_START = '{"type":"'.length

export function isExcluded (connection: Connection, except: Exclusions): boolean {
  return (except.users !== undefined && except.users.includes(connection.userId)) ||
    (except.connections !== undefined && except.connections.includes(connection.id))
}

function clip (text: string): string {
  return text.length <= MAX_ERROR_TEXT ? text : text.slice(0, MAX_ERROR_TEXT - 1) + '…'
}

/** A live frame the connection's recovering join already replayed (see `Connection.replayedUpTo`). */
function alreadyReplayed (connection: Connection, replayed: Map<string, number>, room: string, seq: number): boolean {
  const upTo = replayed.get(room)
  if (upTo === undefined) return false
  if (seq <= upTo) return true
  replayed.delete(room)
  if (replayed.size === 0) connection.replayedUpTo = undefined
  return false
}
