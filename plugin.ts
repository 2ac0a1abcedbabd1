/**
 * The Fastify face of the plugin: check options, create the hub, decorate `app.ws`, register the
 * WebSocket route, and close everything on `app.close()`. Everything else lives in `lib/`.
 */
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { MemoryAdapter } from './lib/adapters/memory.js'
import { installAsyncApi, type AsyncApiAccessor } from './lib/asyncapi/install.js'
import { claimRoute } from './lib/asyncapi/routes.js'
import { createAuthenticator, upgradeRequestLog, type AuthResult } from './lib/auth.js'
import { builtinHandlers } from './lib/builtin-handlers.js'
import { buildCatalog } from './lib/catalog.js'
import { CloseCode } from './lib/codes.js'
import type { Protocol, WsActions } from './lib/define.js'
import { createDispatcher } from './lib/dispatch.js'
import { WsRegistrationError } from './lib/errors.js'
import { Hub, type WsStats } from './lib/hub.js'
import { releaseUpgradeResponse } from './lib/upgrade-memory.js'
import { resolveOptions, type WsPluginOptions } from './lib/options.js'

/** `app.ws`: the server side of the protocol, typed by the registered protocol's messages. */
export interface WsServer<S = {}> extends WsActions<S> {
  /** Rooms with members on this instance. */
  rooms(): string[]
  stats(): WsStats
  /** Unique id of this instance. */
  readonly instanceId: string
}

/**
 * Register your protocol to type `app.ws` with its messages:
 *   declare module 'fastify-ws-rooms' { interface Register { protocol: typeof protocol } }
 */
export interface Register {}
/** Without the augmentation only the built-in server messages type-check on `app.ws`. */
type RegisteredServerSchemas = Register extends { protocol: Protocol<infer S, any> } ? S : {}

declare module 'fastify' {
  interface FastifyInstance {
    ws: WsServer<RegisteredServerSchemas>
    /** The AsyncAPI document of this app's protocol (after `ready()`); `{ yaml: true }` for YAML text. */
    asyncapi: AsyncApiAccessor
  }
}

/** `app.ws` typed by a given protocol, when module augmentation is not wanted (e.g. in tests). */
export function wsOf<S> (app: FastifyInstance, _protocol: Protocol<S, any>): WsServer<S> {
  return app.ws as unknown as WsServer<S>
}

async function wsPlugin (app: FastifyInstance, opts: WsPluginOptions): Promise<void> {
  const options = resolveOptions(opts)
  const catalog = buildCatalog(options.protocol)
  const adapter = opts.adapter ?? new MemoryAdapter()

  if (app.hasDecorator('ws')) {
    throw new WsRegistrationError('WS_ERR_ALREADY_REGISTERED',
      'fastify-ws-rooms is already registered in this app (app.ws exists): register it once; it serves one WebSocket endpoint per Fastify instance')
  }
  if (options.auth !== false && options.auth.verify === undefined) {
    if (app.hasDecorator('jwt')) {
      // Two secrets would mean tokens signed with auth.secret are refused (4001) without a word.
      if (options.auth.secret !== undefined) {
        throw new WsRegistrationError('WS_ERR_AUTH_CONFIG',
          'auth.secret is set but the app already registered @fastify/jwt, which this plugin uses to verify tokens: remove auth.secret, or pass auth.verify to verify tokens another way')
      }
    } else if (options.auth.secret === undefined) {
      throw new WsRegistrationError('WS_ERR_AUTH_CONFIG',
        'Authentication needs a way to verify tokens: pass auth.secret, pass auth.verify, register @fastify/jwt before this plugin, or set auth: false')
    } else {
      await app.register(fastifyJwt, { secret: options.auth.secret })
    }
  }
  if (app.hasDecorator('websocketServer')) {
    throw new WsRegistrationError('WS_ERR_WEBSOCKET_REGISTERED',
      '@fastify/websocket is already registered (by the app, or by this plugin in this context): its maxPayload and close hook would override this plugin\'s limits and graceful shutdown. ' +
      'Register this plugin instead of @fastify/websocket (set perMessageDeflate here if you need compression); your own WebSocket routes use the @fastify/websocket it registers')
  }
  claimRoute(app, options.path, 'path')
  await app.register(fastifyWebsocket, {
    // Client tracking lets app.close() reach sockets of the app's own WebSocket routes too.
    options: { maxPayload: options.maxPayload, clientTracking: true, perMessageDeflate: options.perMessageDeflate },
    // The hub closes its own sockets (with 1001, after running handlers finish); see preClose below.
    preClose: async () => {},
    errorHandler: onSocketError,
  })

  const hub = new Hub(app, catalog, adapter, options)
  const authenticator = createAuthenticator(app, options.auth)
  const dispatcher = createDispatcher(hub, catalog, builtinHandlers(hub, authenticator))
  const authResults = new WeakMap<FastifyRequest, AuthResult>()

  // Implemented once for any protocol: the hub checks types at run time, the declaration types the caller.
  let ready = false
  /** Before ready() the adapter is not connected: say so instead of failing somewhere inside. */
  const whenReady = <A extends unknown[], R>(name: string, method: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (!ready) {
      throw new WsRegistrationError('WS_ERR_NOT_READY',
        `app.ws.${name}() works once the app is ready: call it after \`await app.ready()\` (or app.listen()), or in an onReady hook`)
    }
    return await method(...args)
  }
  const server: WsServer<any> = {
    instanceId: hub.instanceId,
    broadcast: whenReady('broadcast', async (room, type, payload, broadcastOptions) => hub.broadcast(room, type, payload, broadcastOptions)),
    sendToUser: whenReady('sendToUser', async (userId, type, payload) => hub.sendToUser(userId, type, payload)),
    members: whenReady('members', async (room) => adapter.members(room)),
    rooms: () => [...hub.rooms.keys()],
    stats: () => hub.stats(),
  }
  app.decorate('ws', server)
  installAsyncApi(app, { catalog, wsPath: options.path, auth: options.auth !== false }, opts.asyncapi)

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

  app.route({
    method: 'GET',
    url: options.path,
    websocket: true,
    logSerializers: { req: upgradeRequestLog },
    onRequest: async (request, reply) => {
      const origin = request.headers.origin
      if (options.isOriginAllowed !== undefined && origin !== undefined && !options.isOriginAllowed(origin)) {
        await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Origin not allowed' })
      }
    },
    preValidation: async (request) => {
      authResults.set(request, await authenticator.authenticate(request))
    },
    handler: onSocket,
  })

  // While closing, Fastify answers upgrades with 503 itself (no hooks run) and leaves the socket
  // open: a client that kept it would hold app.close() forever. End it once the answer is out.
  const onUpgradeWhileClosing = (_request: unknown, socket: Duplex): void => {
    if (hub.closing) socket.end(() => socket.destroy())
  }

  let heartbeat: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    await adapter.init(hub)
    ready = true
    app.server.on('upgrade', onUpgradeWhileClosing)
    if (options.heartbeatIntervalMs > 0) {
      heartbeat = setInterval(() => hub.sweep(Date.now()), options.heartbeatIntervalMs)
      heartbeat.unref()
    }
  })
  app.addHook('preClose', async () => {
    clearInterval(heartbeat)
    await hub.shutdown()
    await closeOtherSockets(app.websocketServer.clients, options.shutdownTimeoutMs)
  })
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgradeWhileClosing)
    await adapter.close()
  })
}

/**
 * Sockets of the app's own WebSocket routes share this plugin's @fastify/websocket: close them
 * (1001) after the hub's, and terminate any that did not finish the closing handshake in time,
 * or the HTTP server (and app.close()) would wait for them forever.
 */
async function closeOtherSockets (clients: Set<WebSocket>, timeoutMs: number): Promise<void> {
  const open = [...clients].filter((socket) => socket.readyState !== socket.CLOSED)
  if (open.length === 0) return
  await new Promise<void>((resolve) => {
    let left = open.length
    const timer = setTimeout(() => { for (const socket of open) socket.terminate() }, Math.max(timeoutMs, 100))
    for (const socket of open) {
      socket.once('close', () => { if (--left === 0) { clearTimeout(timer); resolve() } })
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.GoingAway, 'Server shutting down')
      else if (socket.readyState === socket.CONNECTING) socket.terminate()
    }
  })
}

/**
 * Errors on an upgraded socket. A client breaking the WebSocket protocol (invalid UTF-8, a frame
 * over `maxPayload`) is not a server fault: ws has already started the closing handshake with
 * the right code (1007, 1009, 1002), which terminating here could lose. Anything else is ours.
 */
function onSocketError (error: Error, socket: WebSocket, request: { log: FastifyBaseLogger }): void {
  if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) {
    request.log.info({ err: error }, 'client broke the WebSocket protocol')
    return
  }
  request.log.error({ err: error }, 'WebSocket connection failed')
  socket.close(CloseCode.InternalError, 'Internal error')
}

const plugin = fp(wsPlugin, { fastify: '5.x', name: 'fastify-ws-rooms' })

export default plugin
export { plugin as wsPlugin }
export type { WsPluginOptions, AuthOptions, RateLimitOptions } from './lib/options.js'
export { defineProtocol, Protocol } from './lib/define.js'
export type { HandlerContext, ConnectionInfo, BroadcastOptions, ServerMessageSpec, ClientMessageSpec, ServerPayload } from './lib/define.js'
export { WsError, WsRegistrationError } from './lib/errors.js'
export { CloseCode, closeCodes, errorCodes, shouldReconnect } from './lib/codes.js'
export type { ErrorCode, CloseCodeInfo } from './lib/codes.js'
export { MemoryAdapter } from './lib/adapters/memory.js'
export type { MemoryAdapterOptions } from './lib/adapters/memory.js'
// The Redis adapter is at 'fastify-ws-rooms/redis': this entry must load without ioredis.
export type { Adapter, AdapterHost, RoomPublish, Recovery, PresenceJoin, Exclusions } from './lib/adapter.js'
export type { WsUser, WsStats } from './lib/hub.js'
export type { AsyncApiOptions, AsyncApiServer } from './lib/asyncapi/options.js'
export type { AsyncApiDocument } from './lib/asyncapi/build-document.js'
export type { AsyncApiAccessor } from './lib/asyncapi/install.js'
