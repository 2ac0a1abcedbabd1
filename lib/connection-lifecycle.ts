/**
 * A WebSocket connection's life on the route: origin checked and authenticated before the upgrade,
 * admitted by the hub, listeners attached, greeted, then its frames dispatched until it closes.
 * Hooks "on connect" (after auth, before `connected`) go between admission and the greeting in
 * `onSocket`; "on disconnect" in `Hub.removeConnection`.
 */
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { Authenticator, AuthResult } from './auth.js'
import { CloseCode } from './protocol/codes.js'
import type { Dispatcher } from './dispatch.js'
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
}

export function createSocketLifecycle (
  hub: Hub,
  dispatcher: Dispatcher,
  authenticator: Authenticator,
  isOriginAllowed: ((origin: string) => boolean) | undefined,
): SocketLifecycle {
  const authResults = new WeakMap<FastifyRequest, AuthResult>()

  async function checkOrigin (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin
    if (isOriginAllowed !== undefined && origin !== undefined && !isOriginAllowed(origin)) {
      await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Origin not allowed' })
    }
  }

  async function authenticate (request: FastifyRequest): Promise<void> {
    authResults.set(request, await authenticator.authenticate(request))
  }

  function onSocket (socket: WebSocket, request: FastifyRequest): void {
    const auth = authResults.get(request)
    authResults.delete(request)
    if (auth === undefined || !auth.ok) {
      socket.close(CloseCode.Unauthorized, auth?.reason ?? 'Unauthorized')
      return
    }
    const { user, expiresAt } = auth.identity
    const connection = hub.addConnection(socket, user, expiresAt, request.log)
    if (connection === undefined) return
    // Listeners go on synchronously after the upgrade: no early frame is lost.
    socket.on('message', (data, isBinary) => dispatcher.onFrame(connection, data as Buffer, isBinary))
    socket.on('pong', () => { connection.alive = true })
    releaseUpgradeResponse(request.raw.socket)
    // @fastify/websocket's own 'error' listener closes over the request and reply, keeping them
    // (~3 KB) alive as long as the socket: swap it for the same handler holding only the connection.
    socket.removeAllListeners('error')
    socket.on('error', (error) => onSocketError(error, socket, connection))
    socket.on('close', () => {
      hub.removeConnection(connection).catch((err: unknown) => connection.log.error({ err }, 'connection cleanup failed'))
    })
    const greeted = hub.greet(connection)
    if (greeted !== undefined) void greeted.then(() => dispatcher.drain(connection))
  }

  function onUpgradeWhileClosing (_request: unknown, socket: Duplex): void {
    if (hub.closing) socket.end(() => socket.destroy())
  }

  return { checkOrigin, authenticate, onSocket, onUpgradeWhileClosing }
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
