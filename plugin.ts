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
import { createAuthenticator, upgradeRequestLog, type AuthResult } from './lib/auth.js'
import { builtinHandlers } from './lib/builtin-handlers.js'
import { buildCatalog } from './lib/catalog.js'
import { CloseCode } from './lib/protocol/codes.js'
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

  if (options.auth !== false && options.auth.verify === undefined && !app.hasDecorator('jwt')) {
    if (options.auth.secret === undefined) {
      throw new WsRegistrationError('WS_ERR_AUTH_CONFIG',
        'Authentication needs a way to verify tokens: pass auth.secret, pass auth.verify, register @fastify/jwt before this plugin, or set auth: false')
    }
    await app.register(fastifyJwt, { secret: options.auth.secret })
  }
  if (app.hasDecorator('websocketServer')) {
    throw new WsRegistrationError('WS_ERR_WEBSOCKET_REGISTERED',
      '@fastify/websocket is already registered: its maxPayload and close hook would override this plugin\'s limits and graceful shutdown. ' +
      'Let this plugin register it (set perMessageDeflate here if you need compression); your own WebSocket routes can use it once this plugin is registered')
  }
  await app.register(fastifyWebsocket, {
    options: { maxPayload: options.maxPayload, clientTracking: false, perMessageDeflate: options.perMessageDeflate },
    // The hub closes sockets itself (with 1001, after running handlers finish).
    preClose: async () => {},
    errorHandler: onSocketError,
  })

  const hub = new Hub(app, catalog, adapter, options)
  const authenticator = createAuthenticator(app, options.auth)
  const dispatcher = createDispatcher(hub, catalog, builtinHandlers(hub, authenticator))
  const authResults = new WeakMap<FastifyRequest, AuthResult>()

  // Implemented once for any protocol: the hub checks types at run time, the declaration types the caller.
  const server: WsServer<any> = {
    instanceId: hub.instanceId,
    broadcast: async (room, type, payload, broadcastOptions) => hub.broadcast(room, type, payload, broadcastOptions),
    sendToUser: async (userId, type, payload) => hub.sendToUser(userId, type, payload),
    members: async (room) => adapter.members(room),
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
    app.server.on('upgrade', onUpgradeWhileClosing)
    if (options.heartbeatIntervalMs > 0) {
      heartbeat = setInterval(() => hub.sweep(Date.now()), options.heartbeatIntervalMs)
      heartbeat.unref()
    }
  })
  app.addHook('preClose', async () => {
    clearInterval(heartbeat)
    await hub.shutdown()
  })
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgradeWhileClosing)
    await adapter.close()
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
export { CloseCode, closeCodes, errorCodes, shouldReconnect } from './lib/protocol/codes.js'
export type { ErrorCode, CloseCodeInfo } from './lib/protocol/codes.js'
export { MemoryAdapter } from './lib/adapters/memory.js'
export type { MemoryAdapterOptions } from './lib/adapters/memory.js'
export { RedisAdapter, defaultRedisRetryStrategy } from './lib/adapters/redis.js'
export type { RedisAdapterOptions } from './lib/adapters/redis.js'
export type { Adapter, AdapterHost, RoomPublish, Recovery, PresenceJoin, Exclusions } from './lib/adapter.js'
export { ClusterAdapter } from './lib/adapters/cluster.js'
export type { ClusterBackend, ClusterEvents, ClusterTimings, Transport, PresenceStore, HistoryStore, History, HistoryFrame, Membership } from './lib/adapters/cluster-roles.js'
export { encodeDurableEnvelope, encodeExclusions } from './lib/adapters/envelope.js'
export type { WsUser, WsStats } from './lib/hub.js'
export type { AsyncApiOptions, AsyncApiServer } from './lib/asyncapi/options.js'
export type { AsyncApiDocument } from './lib/asyncapi/build-document.js'
export type { AsyncApiAccessor } from './lib/asyncapi/install.js'
