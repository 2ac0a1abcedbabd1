/**
 * Every delivery, with flow control: publishes through the adapter, frames for one connection,
 * and (as the adapter's host) what reached this instance for local rooms and users. A broadcast
 * is framed once and the same bytes go to every recipient; the per-recipient loop stays minimal.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Adapter, AdapterHost, Exclusions, MaybePromise, RoomDelivery } from './adapter.js'
import type { Catalog } from './catalog.js'
import { CloseCode, type ErrorCode } from './protocol/codes.js'
import type { Connection } from './connection.js'
import type { BroadcastOptions, ServerMessageDef } from './define.js'
import type { Disconnect } from './expiry.js'
import { encodeFrame, roomFrameParts } from './protocol/stringify.js'
import type { ResolvedOptions } from './options.js'
import type { Registry } from './registry.js'
import { assertRoomName } from './room-name.js'
import { beginBurst, OutgoingFrame } from './ws-frame.js'

/** Error texts echo client input (keys, type names): clipped so an error is never much bigger than this. */
const MAX_ERROR_TEXT = 200

type DeliveryOptions = Pick<ResolvedOptions, 'highWaterMark' | 'slowConsumerGraceMs'>

export class Delivery implements AdapterHost {
  messagesIn = 0
  messagesOut = 0
  framesDropped = 0
  slowConsumerCloses = 0
  readonly recoveries = { recovered: 0, notRecovered: 0 }
  readonly errorCounts: Partial<Record<ErrorCode, number>> = {}
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
    /** Announces a departure the adapter reports (presence.ts decides what the room hears). */
    private readonly announceLeft: (room: string, userId: string) => Promise<void>,
  ) {}

  // ── publishing (through the adapter, to every instance) ───────────────────

  /** Deliver a server message to a room through the adapter; encoded once for every recipient. */
  publish (room: string, type: string, payload: unknown, durable: boolean, except: Exclusions | undefined): MaybePromise<number | undefined> {
    return this.adapter.publishToRoom({ room, frame: roomFrameParts(type, room, payload), durable, except })
  }

  /** App-facing broadcast: durability comes from the message's declaration. */
  broadcast (room: string, type: string, payload: unknown, options?: BroadcastOptions): MaybePromise<number | undefined> {
    const def = this.declared(type)
    assertRoomName(room)
    return this.publish(room, type, payload, def.durable, toExclusions(options))
  }

  sendToUser (userId: string, type: string, payload: unknown): MaybePromise<void> {
    this.declared(type)
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

  sendError (connection: Connection, code: ErrorCode, message: string, id: string | undefined, details?: ReadonlyArray<{ path: string, message: string }>): void {
    this.errorCounts[code] = (this.errorCounts[code] ?? 0) + 1
    const payload = details === undefined
      ? { code, message: clip(message) }
      : { code, message: clip(message), details: details.map((d) => ({ path: clip(d.path), message: clip(d.message) })) }
    this.send(connection, 'error', payload, id)
  }

  /**
   * Write with flow control: over the high-water mark frames are dropped (`force`: written
   * anyway); past the grace period, the connection is closed.
   */
  writeFrame (connection: Connection, out: OutgoingFrame, force = false): void {
    if (connection.write(out, this.options.highWaterMark, force)) this.messagesOut++
    else if (!connection.closed) this.framesDropped++
    else return
    if (connection.overSince !== 0 && Date.now() - connection.overSince > this.options.slowConsumerGraceMs) {
      connection.log.warn({ dropped: connection.dropped }, 'closing slow consumer')
      this.slowConsumerCloses++
      this.disconnect(connection, CloseCode.TryAgainLater, 'Slow consumer')
    }
  }

  // ── AdapterHost: deliveries that reached this instance ────────────────────

  deliverToRoom (room: string, data: Buffer, seq: number | undefined, except: Exclusions | undefined): void {
    const members = this.registry.rooms.get(room)
    if (members === undefined) return
    const out = new OutgoingFrame(data)
    const before = this.messagesOut
    for (const connection of members) {
      if (except !== undefined && isExcluded(connection, except)) continue
      // A join in progress holds the room's live frames until its reply is out (membership.ts).
      if (connection.holding !== undefined) {
        const held = connection.holding.get(room)
        if (held !== undefined) {
          held.push({ data, seq })
          continue
        }
      }
      this.writeFrame(connection, out)
    }
    this.countOut(frameType(data), before)
  }

  deliverBurst (frames: ReadonlyArray<RoomDelivery>): void {
    if (frames.length > 1) beginBurst()
    for (const frame of frames) this.deliverToRoom(frame.room, frame.data, frame.seq, frame.except)
  }

  deliverToUser (userId: string, data: Buffer): void {
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

  userLeft (room: string, userId: string): void {
    this.announceLeft(room, userId).catch((err: unknown) => this.log.error({ err, room }, 'user_left delivery failed'))
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

function toExclusions (options: BroadcastOptions | undefined): Exclusions | undefined {
  const except = options?.except
  if (except === undefined) return undefined
  return {
    users: except.users === undefined ? undefined : [...except.users],
    connections: except.connections === undefined ? undefined : [...except.connections],
  }
}

function clip (text: string): string {
  return text.length <= MAX_ERROR_TEXT ? text : text.slice(0, MAX_ERROR_TEXT - 1) + '…'
}
