/**
 * The Fastify face of the plugin: check options, create the hub, decorate `app.ws`, register the
 * WebSocket route, and close everything on `app.close()`. Everything else lives in `lib/`.
 */
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import { MemoryAdapter } from './lib/adapters/memory.js'
import { installAsyncApi, type AsyncApiAccessor } from './lib/asyncapi/install.js'
import { createAuthenticator, upgradeRequestLog } from './lib/auth.js'
import { builtinHandlers } from './lib/builtin-handlers.js'
import { buildCatalog } from './lib/catalog.js'
import { createSocketLifecycle, onSocketError } from './lib/connection-lifecycle.js'
import type { Protocol, WsActions } from './lib/define.js'
import { createDispatcher } from './lib/dispatch.js'
import { WsRegistrationError } from './lib/errors.js'
import { startHeartbeat } from './lib/heartbeat.js'
import { Hub } from './lib/hub.js'
import { createMetrics } from './lib/metrics.js'
import { resolveOptions, type WsPluginOptions } from './lib/options.js'
import type { WsStats } from './lib/types.js'

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
  const metrics = options.metricsPath === undefined ? undefined : await createMetrics()
  const givenAdapter = opts.adapter ?? new MemoryAdapter()
  const adapter = metrics?.timeAdapter(givenAdapter) ?? givenAdapter

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
  const dispatcher = createDispatcher(hub, catalog, builtinHandlers(hub, authenticator), options.rateLimit)
  const lifecycle = createSocketLifecycle(hub, dispatcher, authenticator, options.isOriginAllowed)

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
  if (metrics !== undefined) metrics.install(app, options.metricsPath!, () => hub.stats())

  app.route({
    method: 'GET',
    url: options.path,
    websocket: true,
    logSerializers: { req: upgradeRequestLog },
    onRequest: lifecycle.checkOrigin,
    preValidation: lifecycle.authenticate,
    handler: lifecycle.onSocket,
  })

  let stopHeartbeat = (): void => {}
  app.addHook('onReady', async () => {
    await adapter.init(hub.adapterHost)
    app.server.on('upgrade', lifecycle.onUpgradeWhileClosing)
    stopHeartbeat = startHeartbeat(options.heartbeatIntervalMs, (now) => hub.sweep(now))
  })
  app.addHook('preClose', async () => {
    stopHeartbeat()
    await hub.shutdown()
  })
  app.addHook('onClose', async () => {
    app.server.off('upgrade', lifecycle.onUpgradeWhileClosing)
    await adapter.close()
  })
}

const plugin = fp(wsPlugin, { fastify: '5.x', name: 'fastify-ws-rooms' })

export default plugin
export { plugin as wsPlugin }
export type { WsPluginOptions, AuthOptions, RateLimitOptions, PresenceOptions, MetricsOptions } from './lib/options.js'
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
export type { WsUser, WsStats } from './lib/types.js'
export type { AsyncApiOptions, AsyncApiServer } from './lib/asyncapi/options.js'
export type { AsyncApiDocument } from './lib/asyncapi/build-document.js'
export type { AsyncApiAccessor, AsyncApiView } from './lib/asyncapi/install.js'
