/**
 * A WebSocket connection's life on the route: origin checked and authenticated before the upgrade,
 * admitted by the hub, listeners attached, greeted, then its frames dispatched until it closes.
 * The app's `onConnect` hooks run between admission and the greeting (`admit`); their frames wait
 * behind `connected` (greeting.ts). `onDisconnect` runs in `Hub.removeConnection`.
 */
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { RawData, WebSocket } from 'ws'
import type { Authenticator, AuthResult } from './auth.js'
import type { Connection } from './connection.js'
import { CloseCode } from './protocol/codes.js'
import type { Dispatcher } from './dispatch.js'
import { WsError } from './errors.js'
import type { Hub } from './hub.js'
import { releaseUpgradeResponse } from './upgrade-memory.js'

export interface SocketLifecycle {
  /** The route's `onRequest`: a browser origin not allowed gets HTTP 403 before any upgrade. */
  checkOrigin(request: FastifyRequest, reply: FastifyReply): Promise<void>
  /** The route's `preValidation`: authenticate before the upgrade, so no early frame can be lost. */
  authenticate(request: FastifyRequest): Promise<void>
  /** The route's WebSocket handler. */
  onSocket(socket: WebSocket, request: FastifyRequest): void
  /**
   * For the server's 'upgrade' event. While closing, Fastify answers upgrades with 503 itself (no
   * hooks run) and leaves the socket open: a client that kept it would hold app.close() forever.
   * End it once the answer is out.
   */
  onUpgradeWhileClosing(request: unknown, socket: Duplex): void
  /** This route's upgrade (not one of the app's own WebSocket routes): see shutdown.ts. */
  isOwnUpgrade(request: IncomingMessage): boolean
}

/** The connection a socket of this route carries: one listener of each kind serves every socket. */
const kConnection = Symbol('fastify-ws-rooms.connection')
type RouteSocket = WebSocket & { [kConnection]: Connection }
const connectionOf = (socket: WebSocket): Connection => (socket as RouteSocket)[kConnection]

export function createSocketLifecycle (
  hub: Hub,
  dispatcher: Dispatcher,
  authenticator: Authenticator,
  isOriginAllowed: ((origin: string) => boolean) | undefined,
  /** A socket of this route closed without becoming a connection: app.close() must still see it end. */
  trackRefused: (socket: WebSocket) => void,
): SocketLifecycle {
  const authResults = new WeakMap<FastifyRequest, AuthResult>()
  const ownUpgrades = new WeakSet<IncomingMessage>()

  // Shared by every socket (`this` is the socket), not closures made per socket: four closures and
  // their scope were ~300 B of heap per idle connection.
  function onMessage (this: WebSocket, data: RawData, isBinary: boolean): void {
    dispatcher.onFrame(connectionOf(this), data as Buffer, isBinary)
  }
  function onPong (this: WebSocket): void {
    connectionOf(this).alive = true
  }
  function onError (this: WebSocket, error: Error): void {
    onSocketError(error, this, connectionOf(this))
  }
  function onClose (this: WebSocket): void {
    const connection = connectionOf(this)
    hub.removeConnection(connection).catch((err: unknown) => connection.log.error({ err }, 'connection cleanup failed'))
  }

  async function checkOrigin (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin
    if (isOriginAllowed !== undefined && origin !== undefined && !isOriginAllowed(origin)) {
      await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Origin not allowed' })
    }
  }

  async function authenticate (request: FastifyRequest): Promise<void> {
    ownUpgrades.add(request.raw)
    authResults.set(request, await authenticator.authenticate(request))
  }

  function onSocket (socket: WebSocket, request: FastifyRequest): void {
    const auth = authResults.get(request)
    authResults.delete(request)
    if (auth === undefined || !auth.ok) {
      socket.close(CloseCode.Unauthorized, auth?.reason ?? 'Unauthorized')
      trackRefused(socket)
      return
    }
    const { user, expiresAt, data } = auth.identity
    const connection = hub.addConnection(socket, user, expiresAt, request.log)
    // Refused by a cap, or its token expired between authentication and now (already forgotten).
    if (connection === undefined || connection.closed) {
      trackRefused(socket)
      return
    }
    if (data !== undefined) connection.data = data
    releaseUpgradeResponse(request.raw.socket)
    // @fastify/websocket's own 'error' listener closes over the request and reply, keeping them
    // (~3 KB) alive as long as the socket: swap it for the same handler holding only the connection.
    // (Removed before ours go on: deleting the socket's newest event key keeps its listener table compact.)
    socket.removeAllListeners('error')
    // Listeners go on synchronously after the upgrade: no early frame is lost.
    ;(socket as RouteSocket)[kConnection] = connection
    socket.on('message', onMessage)
    socket.on('pong', onPong)
    socket.on('error', onError)
    socket.on('close', onClose)
    if (!hub.hasHook('onConnect')) {
      connection.accepted = true
      welcome(connection)
      return
    }
    // Frames wait while the hooks run (busy); what the hooks send waits behind `connected` (pending).
    connection.busy = true
    connection.pending = []
    // Registered first: a control the hooks send to this connection (app.ws.addToRoom) reaches it.
    const registering = hub.register(connection)
    if (registering === undefined) runConnectHooks(connection)
    else void registering.then(() => runConnectHooks(connection))
  }

  function runConnectHooks (connection: Connection): void {
    if (connection.closed) return
    let ran: unknown
    try {
      ran = hub.runHook('onConnect', connection)
    } catch (err) {
      refuse(connection, err)
      return
    }
    if (ran === undefined) accept(connection)
    else (ran as Promise<void>).then(() => accept(connection), (err: unknown) => refuse(connection, err))
  }

  function accept (connection: Connection): void {
    if (connection.closed) return
    connection.accepted = true
    connection.busy = false
    welcome(connection)
  }

  /** `connected`, then the frames that waited (before the greeting, or while hooks ran). */
  function welcome (connection: Connection): void {
    const greeted = hub.greet(connection)
    if (greeted === undefined) dispatcher.drain(connection)
    else void greeted.then(() => dispatcher.drain(connection))
  }

  function refuse (connection: Connection, err: unknown): void {
    if (err instanceof WsError) {
      connection.log.info({ code: err.code, reason: err.message }, 'onConnect hook refused the connection')
      hub.disconnect(connection, CloseCode.ConnectionRefused, closeReason(`${err.code}: ${err.message}`))
      return
    }
    connection.log.error({ err, hook: 'onConnect' }, 'onConnect hook failed')
    hub.disconnect(connection, CloseCode.InternalError, 'Internal error')
  }

  function onUpgradeWhileClosing (_request: unknown, socket: Duplex): void {
    if (hub.closing) socket.end(() => socket.destroy())
  }

  return { checkOrigin, authenticate, onSocket, onUpgradeWhileClosing, isOwnUpgrade: (request) => ownUpgrades.has(request) }
}

/** A WebSocket close reason holds at most 123 bytes of UTF-8. */
function closeReason (text: string): string {
  let reason = text
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1)
  return reason
}

/**
 * Errors on an upgraded socket (also @fastify/websocket's `errorHandler`). A client breaking the
 * WebSocket protocol (invalid UTF-8, a frame over `maxPayload`) is not a server fault: ws has
 * already started the closing handshake with the right code (1007, 1009, 1002), which terminating
 * here could lose. Anything else is ours.
 */
export function onSocketError (error: Error, socket: WebSocket, request: { log: FastifyBaseLogger }): void {
  if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) {
    request.log.info({ err: error }, 'client broke the WebSocket protocol')
    return
  }
  request.log.error({ err: error }, 'WebSocket connection failed')
  socket.close(CloseCode.InternalError, 'Internal error')
}
