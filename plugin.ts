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
import { claimRoute } from './lib/asyncapi/routes.js'
import { createAuthenticator, upgradeRequestLog } from './lib/auth.js'
import { builtinHandlers } from './lib/builtin-handlers.js'
import { buildCatalog } from './lib/catalog.js'
import { createSocketLifecycle, onSocketError } from './lib/connection-lifecycle.js'
import type { Protocol } from './lib/define.js'
import { createDispatcher } from './lib/dispatch.js'
import { WsRegistrationError } from './lib/errors.js'
import { startHeartbeat } from './lib/heartbeat.js'
import { Hooks, sealHooks, type WsHooks } from './lib/hooks.js'
import { registerHistoryRoute } from './lib/history-route.js'
import { Hub } from './lib/hub.js'
import { closeOtherSockets, OtherSockets } from './lib/shutdown.js'
import { publishedLimits, resolveOptions, type WsPluginOptions } from './lib/options.js'
import { createWsServer, type WsServer } from './lib/ws-server.js'
import { assertNoWebsocketYet, refuseLaterWebsocket } from './lib/websocket-once.js'
import type { RegisteredClientMessages, RegisteredServerSchemas } from './lib/register.js'
import { createMetrics } from './lib/metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Typed by the registered protocol (`Register`); without it only the built-in messages type-check. */
    ws: WsServer<RegisteredServerSchemas, RegisteredClientMessages>
    /** The AsyncAPI document of this app's protocol (after `ready()`); `{ yaml: true }` for YAML text. */
    asyncapi: AsyncApiAccessor
  }
}

/** `app.ws` typed by a given protocol, when module augmentation is not wanted (e.g. in tests). */
export function wsOf<S, C> (app: FastifyInstance, _protocol: Protocol<S, C, any>): WsServer<S, C> {
  return app.ws as unknown as WsServer<S, C>
}

async function wsPlugin (app: FastifyInstance, opts: WsPluginOptions): Promise<void> {
  const options = resolveOptions(opts)
  const catalog = buildCatalog(options.protocol)
  const metrics = options.metricsPath === undefined ? undefined : await createMetrics()
  const givenAdapter = opts.adapter ?? new MemoryAdapter()
  const adapter = metrics?.timeAdapter(givenAdapter) ?? givenAdapter

  if (app.hasDecorator('ws')) {
    throw new WsRegistrationError('WS_ERR_ALREADY_REGISTERED',
      'fastify-ws-rooms is already registered in this app (app.ws exists): register it once; it serves one WebSocket endpoint per Fastify instance')
  }
  // auth.authenticate identifies clients itself; a secret beside it still verifies refresh_token.
  if (options.auth !== false && options.auth.verify === undefined && (options.auth.authenticate === undefined || options.auth.secret !== undefined)) {
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
  assertNoWebsocketYet(app)
  claimRoute(app, options.path, 'path')
  await app.register(fastifyWebsocket, {
    // No ws client tracking: the hub tracks its sockets, OtherSockets the rest (the app's own
    // routes', refused ones) for app.close(), so `app.websocketServer.clients` is undefined.
    options: { maxPayload: options.maxPayload, clientTracking: false, perMessageDeflate: options.perMessageDeflate },
    // The hub closes its own sockets (with 1001, after running handlers finish); see preClose below.
    preClose: async () => {},
    errorHandler: onSocketError,
  })
  refuseLaterWebsocket(app)

  const hooks = new Hooks(options.hookTimeoutMs)
  const hub = new Hub(app, catalog, adapter, options, hooks)
  const authenticator = createAuthenticator(app, options.auth)
  const dispatcher = createDispatcher(hub, catalog, builtinHandlers(hub, authenticator, options.authorizePublish), options)
  const otherSockets = new OtherSockets()
  const lifecycle = createSocketLifecycle(hub, dispatcher, authenticator, options.isOriginAllowed, (socket) => otherSockets.track(socket))
  otherSockets.listen(app.websocketServer, lifecycle.isOwnUpgrade)

  const { server, markReady } = createWsServer(hub, adapter, hooks)
  app.decorate('ws', server)
  installAsyncApi(app, { catalog, wsPath: options.path, auth: options.auth !== false, limits: publishedLimits(options) }, opts.asyncapi)

  if (options.history !== undefined) {
    registerHistoryRoute(app, { catalog, adapter, authenticator, authorizeJoin: options.authorizeJoin, auth: options.auth !== false }, options.history)
  }
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
    sealHooks(hooks, dispatcher, (connection) => hub.contextFor(connection))
    await adapter.init(hub.adapterHost)
    markReady()
    app.server.on('upgrade', lifecycle.onUpgradeWhileClosing)
    stopHeartbeat = startHeartbeat(options.heartbeatIntervalMs, (now) => hub.sweep(now))
  })
  app.addHook('preClose', async () => {
    stopHeartbeat()
    await hub.shutdown()
    await closeOtherSockets(otherSockets.open, options.shutdownTimeoutMs)
  })
  app.addHook('onClose', async () => {
    app.server.off('upgrade', lifecycle.onUpgradeWhileClosing)
    await adapter.close()
  })
}

const plugin = fp(wsPlugin, { fastify: '5.x', name: 'fastify-ws-rooms' })

export default plugin
export { plugin as wsPlugin }
export type { WsPluginOptions, AuthOptions, AuthenticatedUser, RateLimitOptions, PresenceOptions, MetricsOptions } from './lib/options.js'
export type { HistoryRouteOptions, StoredRoomMessage } from './lib/history-options.js'
export { defineProtocol, Protocol } from './lib/define.js'
export type { HandlerContext, ConnectionInfo, BroadcastOptions, ServerMessageSpec, ClientMessageSpec, ServerPayload, ProtocolOptions, OptionalBuiltin } from './lib/define.js'
export type { Register, ConnectionData, AppErrorCode } from './lib/register.js'
export { HookTimeoutError } from './lib/hooks.js'
export type { WsHooks, HookName, IncomingClientMessage, PublishedMessage, JoinEvent, LeaveEvent } from './lib/hooks.js'
export { WsError, WsRegistrationError } from './lib/errors.js'
export type { WsErrorCode } from './lib/errors.js'
export type { WsControl, ControlTarget } from './lib/control.js'
export { CloseCode, closeCodes, errorCodes, shouldReconnect } from './lib/protocol/codes.js'
export type { ErrorCode, CloseCodeInfo } from './lib/protocol/codes.js'
export { retryAfterMs } from './lib/protocol/limits.js'
export type { ServerLimits } from './lib/protocol/limits.js'
export { WsOutgoingFrameError } from './lib/outgoing-check.js'
export { MemoryAdapter } from './lib/adapters/memory.js'
export type { MemoryAdapterOptions } from './lib/adapters/memory.js'
// The Redis adapter is at 'fastify-ws-rooms/redis': this entry must load without ioredis.
export type { Adapter, AdapterHost, RoomPublish, Recovery, PresenceJoin, PresenceLeave, MembersAfter, Exclusions, StreamPosition } from './lib/adapter.js'
export { ClusterAdapter } from './lib/adapters/cluster.js'
export type { ClusterBackend, ClusterEvents, ClusterTimings, Transport, PresenceStore, HistoryStore, History, HistoryFrame, Membership } from './lib/adapters/cluster-roles.js'
export { encodeDurableEnvelope, encodeExclusions } from './lib/adapters/envelope.js'
export type { WsUser, WsStats } from './lib/types.js'
export type { WsServer } from './lib/ws-server.js'
export type { AsyncApiOptions, AsyncApiServer } from './lib/asyncapi/options.js'
export type { AsyncApiDocument } from './lib/asyncapi/build-document.js'
export type { AsyncApiAccessor, AsyncApiUrls, AsyncApiView } from './lib/asyncapi/install.js'
