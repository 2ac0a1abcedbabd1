/**
 * The connection manager: local connections, the local room index, presence through the adapter,
 * and every delivery. A broadcast is encoded once and the same bytes go to every recipient.
 */
import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Adapter, AdapterHost, Exclusions, MaybePromise, Recovery, RoomDelivery } from './adapter.js'
import { isPromise } from './adapter.js'
import type { Catalog } from './catalog.js'
import { CloseCode, type ErrorCode } from './protocol/codes.js'
import { Connection } from './connection.js'
import type { BroadcastOptions, HandlerContext, ServerMessageDef } from './define.js'
import { createHandlerContext } from './context.js'
import { withTimeout } from './timeout.js'
import { WsError } from './errors.js'
import { encodeFrame, roomFrameParts } from './protocol/stringify.js'
import { beginBurst, OutgoingFrame } from './ws-frame.js'
import type { ResolvedOptions } from './options.js'
import { TokenBucket } from './rate-limit.js'
import { ROOM_NAME_PATTERN } from '../schemas/common.js'

const ROOM_NAME = new RegExp(ROOM_NAME_PATTERN)
const MAX_TIMER_MS = 2 ** 31 - 1
/** Error texts echo client input (keys, type names): clipped so an error is never much bigger than this. */
const MAX_ERROR_TEXT = 200

function clip (text: string): string {
  return text.length <= MAX_ERROR_TEXT ? text : text.slice(0, MAX_ERROR_TEXT - 1) + '…'
}

export interface WsUser {
  readonly id: string
  readonly claims: Readonly<Record<string, unknown>>
}

export interface WsStats {
  connections: number
  users: number
  rooms: number
  messagesIn: number
  messagesOut: number
  framesDropped: number
  errors: Partial<Record<ErrorCode, number>>
  adapter: Record<string, unknown> | undefined
}

export interface RoomJoinedPayload {
  room: string
  members: string[]
  seq: number
  recovered?: boolean
}

export class Hub implements AdapterHost {
  readonly instanceId = randomUUID()
  readonly connections = new Map<string, Connection>()
  /** userId → that user's local connections */
  readonly users = new Map<string, Set<Connection>>()
  /** room → local member connections */
  readonly rooms = new Map<string, Set<Connection>>()
  closing = false
  /** Handlers still running (awaited, bounded, on shutdown). */
  inflight = 0
  private readonly errorCounts: Partial<Record<ErrorCode, number>> = {}
  private messagesIn = 0
  private messagesOut = 0
  private framesDropped = 0
  private idleWaiter: (() => void) | undefined

  constructor (
    readonly app: FastifyInstance,
    readonly catalog: Catalog,
    readonly adapter: Adapter,
    readonly options: ResolvedOptions,
  ) {}

  get log (): FastifyBaseLogger {
    return this.app.log
  }

  // ── connections ──────────────────────────────────────────────────────────

  /** Register an authenticated socket. Returns undefined when a cap refused it (socket closed). */
  addConnection (socket: WebSocket, user: WsUser, expiresAt: number | undefined, log: FastifyBaseLogger): Connection | undefined {
    const { maxConnections, maxConnectionsPerUser, rateLimit } = this.options
    if (this.closing) {
      socket.close(CloseCode.GoingAway, 'Server shutting down')
      return undefined
    }
    if (this.connections.size >= maxConnections) {
      socket.close(CloseCode.TryAgainLater, 'Server connection limit reached')
      return undefined
    }
    const userConnections = this.users.get(user.id)
    if (maxConnectionsPerUser !== undefined && (userConnections?.size ?? 0) >= maxConnectionsPerUser) {
      socket.close(CloseCode.TooManyUserConnections, 'Too many connections for this user')
      return undefined
    }
    const id = this.options.generateConnectionId()
    const bucket = rateLimit === false ? undefined : new TokenBucket(rateLimit.perSecond, rateLimit.burst, Date.now())
    const connection = new Connection(id, user.id, user.claims, socket, log.child({ connectionId: id, userId: user.id }), bucket)
    this.connections.set(id, connection)
    if (userConnections === undefined) this.users.set(user.id, new Set([connection]))
    else userConnections.add(connection)
    this.setExpiry(connection, expiresAt)
    return connection
  }

  /** Forget a connection: it leaves every room (presence rules apply) and its timers stop. */
  async removeConnection (connection: Connection): Promise<void> {
    if (!this.connections.delete(connection.id)) return
    connection.closed = true
    clearTimeout(connection.expiryTimer)
    connection.backlog.length = 0
    const userConnections = this.users.get(connection.userId)
    userConnections?.delete(connection)
    if (userConnections?.size === 0) this.users.delete(connection.userId)
    const leaving = [...connection.rooms]
    await Promise.all(leaving.map(async (room) => {
      try {
        await this.leave(connection, room)
      } catch (err) {
        connection.log.error({ err, room }, 'leaving room on disconnect failed')
      }
    }))
    try {
      await this.adapter.removeConnection?.(connection.userId, connection.id)
    } catch (err) {
      connection.log.error({ err }, 'adapter connection cleanup failed')
    }
  }

  /**
   * Close with `code` and forget the connection at once (rooms, presence, `user_left`). A client
   * that stopped reading may never finish the closing handshake (ws destroys the socket after
   * 30 s); it must not linger in rooms meanwhile. Its buffer no longer grows: `closed` stops writes.
   */
  disconnect (connection: Connection, code: number, reason: string): void {
    if (connection.closed) return
    connection.close(code, reason)
    this.removeConnection(connection).catch((err: unknown) => connection.log.error({ err }, 'connection cleanup failed'))
  }

  /**
   * Send `connected` once the adapter routes the user's messages here (Redis: SUBSCRIBE answered).
   * Until then the connection is busy (its frames wait in order) and user deliveries skip it, so
   * `connected` is always the first frame. Returns a promise only when the greeting had to wait.
   */
  greet (connection: Connection): Promise<void> | undefined {
    const greeting = connection.expiresAt === undefined
      ? { connectionId: connection.id, userId: connection.userId }
      : { connectionId: connection.id, userId: connection.userId, expiresAt: connection.expiresAt }
    const registered = this.adapter.addConnection?.(connection.userId, connection.id)
    if (registered === undefined || !isPromise(registered)) {
      connection.greeted = true
      this.send(connection, 'connected', greeting)
      return undefined
    }
    connection.busy = true
    return registered
      .catch((err: unknown) => connection.log.error({ err }, 'adapter connection setup failed'))
      .then(() => {
        connection.greeted = true
        connection.busy = false
        if (!connection.closed) this.send(connection, 'connected', greeting)
      })
  }

  /** Close the connection at the token's expiry unless a refresh moves it. */
  setExpiry (connection: Connection, expiresAt: number | undefined): void {
    clearTimeout(connection.expiryTimer)
    connection.expiryTimer = undefined
    connection.expiresAt = expiresAt
    if (expiresAt === undefined) return
    const arm = (): void => {
      const delay = expiresAt - Date.now()
      if (delay <= 0) {
        this.disconnect(connection, CloseCode.Unauthorized, 'Token expired')
        return
      }
      // setTimeout fires at once past 2^31-1 ms: re-arm in steps for far-off expiries.
      connection.expiryTimer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS))
      connection.expiryTimer.unref()
    }
    arm()
  }

  // ── rooms and presence ───────────────────────────────────────────────────

  /**
   * Join `room`. Sends `room_joined` (with `id` when given), then any recovered messages, then the
   * live ones that arrived meanwhile (held until then), so the client sees the reply first and
   * every message in `seq` order.
   */
  async join (connection: Connection, room: string, since: number | undefined, id: string | undefined): Promise<void> {
    assertRoomName(room)
    this.hold(connection, room)
    let recoveredUpTo = 0
    try {
      if (!connection.rooms.has(room)) {
        this.checkRoomLimit(connection)
        const authorize = this.options.authorizeJoin
        if (authorize !== undefined && !(await authorize({ id: connection.userId, claims: connection.claims }, room))) {
          throw new WsError('forbidden', `Not allowed to join room "${room}"`)
        }
        if (connection.closed) return
        if (!connection.rooms.has(room)) {
          this.checkRoomLimit(connection) // again: other joins may have completed while authorizing
          connection.rooms.add(room)
          let members = this.rooms.get(room)
          if (members === undefined) this.rooms.set(room, members = new Set())
          members.add(connection)
          const presence = await this.adapter.addMember(room, connection.userId, connection.id)
          if (connection.closed) return
          if (presence.firstForUser) {
            await this.publish(room, 'user_joined', { userId: connection.userId }, false, { users: [connection.userId] })
          }
        }
      }
      const [members, lastSeq, recovery] = await Promise.all([
        this.adapter.members(room),
        this.adapter.lastSeq(room),
        since === undefined ? undefined : this.adapter.recover(room, since),
      ])
      if (connection.closed) return
      recoveredUpTo = lastRecoveredSeq(recovery)
      const reply: RoomJoinedPayload = { room, members, seq: Math.max(lastSeq, recoveredUpTo) }
      if (recovery !== undefined) reply.recovered = recovery.recovered
      this.send(connection, 'room_joined', reply, id)
      // Recovered frames are part of the answer (bounded by the history size): never dropped.
      for (const frame of recovery?.frames ?? []) {
        if (frame.except !== undefined && isExcluded(connection, frame.except)) continue
        this.writeFrame(connection, new OutgoingFrame(Buffer.from(frame.data)), true)
      }
    } finally {
      // A member keeps what arrived meanwhile (minus what recovery sent); a refused joiner gets nothing.
      this.release(connection, room, connection.rooms.has(room) ? recoveredUpTo : Infinity)
    }
  }

  private checkRoomLimit (connection: Connection): void {
    if (connection.rooms.size >= this.options.maxRoomsPerConnection) {
      throw new WsError('room_limit', `A connection can be in at most ${this.options.maxRoomsPerConnection} rooms`)
    }
  }

  async leave (connection: Connection, room: string): Promise<void> {
    if (!connection.rooms.delete(room)) return
    connection.holding?.delete(room)
    const members = this.rooms.get(room)
    if (members !== undefined) {
      members.delete(connection)
      if (members.size === 0) this.rooms.delete(room)
    }
    if (await this.adapter.removeMember(room, connection.userId, connection.id)) {
      await this.publish(room, 'user_left', { userId: connection.userId }, false, undefined)
    }
  }

  // ── deliveries ───────────────────────────────────────────────────────────

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

  /** A frame for one connection (replies, greetings, errors): written even over the high-water mark. */
  send (connection: Connection, type: string, payload: unknown, id?: string): void {
    this.writeFrame(connection, new OutgoingFrame(Buffer.from(encodeFrame(type, payload, id))), true)
  }

  sendError (connection: Connection, code: ErrorCode, message: string, id: string | undefined, details?: ReadonlyArray<{ path: string, message: string }>): void {
    this.errorCounts[code] = (this.errorCounts[code] ?? 0) + 1
    const payload = details === undefined
      ? { code, message: clip(message) }
      : { code, message: clip(message), details: details.map((d) => ({ path: clip(d.path), message: clip(d.message) })) }
    this.send(connection, 'error', payload, id)
  }

  /** Write with flow control: over the high-water mark frames are dropped; past the grace period, closed. */
  write (connection: Connection, data: Buffer): void {
    this.writeFrame(connection, new OutgoingFrame(data))
  }

  /** `write` of a message framed once for all its recipients; `force`: written even over the mark. */
  private writeFrame (connection: Connection, out: OutgoingFrame, force = false): void {
    if (connection.write(out, this.options.highWaterMark, force)) this.messagesOut++
    else if (!connection.closed) this.framesDropped++
    else return
    if (connection.overSince !== 0 && Date.now() - connection.overSince > this.options.slowConsumerGraceMs) {
      connection.log.warn({ dropped: connection.dropped }, 'closing slow consumer')
      this.disconnect(connection, CloseCode.TryAgainLater, 'Slow consumer')
    }
  }

  // AdapterHost: deliveries that reached this instance.

  deliverToRoom (room: string, data: Buffer, seq: number | undefined, except: Exclusions | undefined): void {
    const members = this.rooms.get(room)
    if (members === undefined) return
    const out = new OutgoingFrame(data)
    for (const connection of members) {
      if (except !== undefined && isExcluded(connection, except)) continue
      if (connection.holding !== undefined) {
        const held = connection.holding.get(room)
        if (held !== undefined) {
          held.push({ data, seq })
          continue
        }
      }
      this.writeFrame(connection, out)
    }
  }

  deliverBurst (frames: ReadonlyArray<RoomDelivery>): void {
    if (frames.length > 1) beginBurst()
    for (const frame of frames) this.deliverToRoom(frame.room, frame.data, frame.seq, frame.except)
  }

  deliverToUser (userId: string, data: Buffer): void {
    const connections = this.users.get(userId)
    if (connections === undefined) return
    const out = new OutgoingFrame(data)
    for (const connection of connections) {
      if (connection.greeted) this.writeFrame(connection, out)
    }
  }

  userLeft (room: string, userId: string): void {
    const result = this.publish(room, 'user_left', { userId }, false, undefined)
    if (isPromise(result)) result.catch((err: unknown) => this.log.error({ err, room }, 'user_left delivery failed'))
  }

  // ── introspection ────────────────────────────────────────────────────────

  stats (): WsStats {
    return {
      connections: this.connections.size,
      users: this.users.size,
      rooms: this.rooms.size,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      framesDropped: this.framesDropped,
      errors: { ...this.errorCounts },
      adapter: this.adapter.stats?.(),
    }
  }

  countIn (): void {
    this.messagesIn++
  }

  handlerDone (): void {
    if (--this.inflight === 0 && this.idleWaiter !== undefined) {
      this.idleWaiter()
      this.idleWaiter = undefined
    }
  }

  /**
   * Graceful shutdown: refuse new connections, let running handlers finish (bounded), then close
   * every socket with 1001 and clean presence up. Sockets that do not finish the closing
   * handshake promptly are terminated.
   */
  async shutdown (): Promise<void> {
    this.closing = true
    const timeout = this.options.shutdownTimeoutMs
    if (this.inflight > 0) {
      await withTimeout(new Promise<void>((resolve) => { this.idleWaiter = resolve }), timeout)
    }
    const connections = [...this.connections.values()]
    const closed = connections.map((connection) => socketClosed(connection.socket))
    for (const connection of connections) connection.close(CloseCode.GoingAway, 'Server shutting down')
    await withTimeout(Promise.allSettled(connections.map((connection) => this.removeConnection(connection))), timeout)
    await withTimeout(Promise.all(closed), 1000)
    for (const connection of connections) {
      if (connection.socket.readyState !== connection.socket.CLOSED) connection.socket.terminate()
    }
  }

  /** Protocol-level liveness: terminate connections that missed the previous ping; close stuck slow readers. */
  sweep (now: number): void {
    for (const connection of this.connections.values()) {
      if (!connection.alive) {
        connection.log.info('terminating unresponsive connection')
        connection.closed = true
        connection.socket.terminate()
        continue
      }
      // No write since the buffer went over the mark: judge by the buffer as it is now.
      if (connection.overSince !== 0 && connection.socket.bufferedAmount <= this.options.highWaterMark) connection.overSince = 0
      if (connection.overSince !== 0 && now - connection.overSince > this.options.slowConsumerGraceMs) {
        connection.log.warn({ dropped: connection.dropped }, 'closing slow consumer')
        this.disconnect(connection, CloseCode.TryAgainLater, 'Slow consumer')
        continue
      }
      connection.alive = false
      connection.socket.ping()
    }
  }

  /** The per-connection context app handlers receive (made once per connection). */
  contextFor (connection: Connection): HandlerContext<any> {
    connection.context ??= createHandlerContext(this, connection)
    return connection.context
  }

  /** The declaration of a server message type app code asked to send; unknown types are a bug in the app. */
  declared (type: string): ServerMessageDef {
    const def = this.catalog.server.get(type)
    if (def === undefined) throw new TypeError(`Unknown server message type "${type}": declare it with defineProtocol().server()`)
    return def
  }

  // Joins hold a room's live frames for the connection until the reply (and history) is out.

  private hold (connection: Connection, room: string): void {
    if (connection.holding === undefined) connection.holding = new Map()
    if (!connection.holding.has(room)) connection.holding.set(room, [])
  }

  /** Deliver held frames newer than `after` (recovered ones are already out); `Infinity`: discard. */
  private release (connection: Connection, room: string, after: number): void {
    const held = connection.holding?.get(room)
    if (held === undefined) return
    connection.holding!.delete(room)
    if (connection.holding!.size === 0) connection.holding = undefined
    if (after === Infinity || connection.closed) return
    for (const frame of held) {
      if (frame.seq !== undefined && frame.seq <= after) continue
      this.writeFrame(connection, new OutgoingFrame(frame.data), true)
    }
  }
}


function socketClosed (socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => socket.once('close', () => resolve()))
}

function lastRecoveredSeq (recovery: Recovery | undefined): number {
  if (recovery === undefined || recovery.frames.length === 0) return 0
  return recovery.frames[recovery.frames.length - 1]!.seq
}

function isExcluded (connection: Connection, except: Exclusions): boolean {
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

export function assertRoomName (room: unknown): asserts room is string {
  if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
    throw new WsError('invalid_message', 'Room names are 1–128 characters from letters, digits and _ - . : @ # /',
      [{ path: '/payload/room', message: 'invalid room name' }])
  }
}
