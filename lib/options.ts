/**
 * Plugin options: their types (with documented defaults), and the check that fails fast at
 * registration with a coded error naming the bad option.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { PerMessageDeflateOptions } from 'ws'
import type { Adapter } from './adapter.js'
import type { AsyncApiOptions } from './asyncapi/options.js'
import type { AnyProtocol } from './define.js'
import { invalidOption } from './errors.js'
import type { ConnectionData } from './register.js'
import { resolveHistoryOptions, type HistoryRouteOptions, type ResolvedHistoryOptions } from './history-options.js'
import type { ServerLimits } from './protocol/limits.js'
import type { WsUser } from './types.js'
import { checkOptionKeys, type KeyTable } from './option-keys.js'
import { booleanOption, optionalFunction, positiveInt } from './option-values.js'

/** Who an `auth.authenticate` function identified. */
export interface AuthenticatedUser {
  readonly id: string
  /** Shown to handlers as `ctx.connection.claims`. @default {} */
  readonly claims?: Record<string, unknown>
  /** When the session ends (epoch ms): the connection is closed with 4001 then. @default never */
  readonly expiresAt?: number
  /** The connection's initial `ctx.data`. @default {} */
  readonly data?: ConnectionData
}

export interface AuthOptions {
  /**
   * HS256 secret. When given and the app has not registered `@fastify/jwt`, the plugin registers
   * it with this secret. Otherwise the app's `@fastify/jwt` instance is used.
   */
  secret?: string
  /**
   * Verify a token and return its claims. Replaces `@fastify/jwt` entirely when given.
   * @default verifies with `app.jwt.verify`
   */
  verify?: (token: string) => Record<string, unknown> | Promise<Record<string, unknown>>
  /**
   * The user id of verified claims. A number (e.g. a numeric `sub`) is used as its decimal string.
   * @default claims => claims.sub
   */
  getUserId?: (claims: Record<string, unknown>) => string | number
  /**
   * Identify the client from the upgrade request itself (a session cookie, a header…) instead of
   * a token. Return the user, or undefined/null to refuse (close 4001). `refresh_token` still
   * verifies tokens (`secret`/`verify`/`@fastify/jwt`) when one of them is configured.
   * @default reads the token from `?token=` or `Authorization: Bearer`
   */
  authenticate?: (request: FastifyRequest) => AuthenticatedUser | undefined | null | Promise<AuthenticatedUser | undefined | null>
}

export interface RateLimitOptions {
  /** Frames per second a connection may send on average. @default 20 */
  perSecond?: number
  /** Frames a connection may send at once. @default 50 */
  burst?: number
  /** Consecutive refused frames after which the connection is closed with 1008. @default 50 */
  closeAfter?: number
}

export interface WsPluginOptions {
  /** The WebSocket route. @default '/ws' */
  path?: string
  /** App-defined messages, from `defineProtocol()`. */
  protocol?: AnyProtocol
  /** JWT authentication, or `false` for a public endpoint (each connection is then its own user). @default {} (use or register `@fastify/jwt`) */
  auth?: AuthOptions | false
  /** Who may join which room. A false answer is `error` `forbidden`; the connection stays. @default everyone may join any room */
  authorizeJoin?: (user: WsUser, room: string) => boolean | Promise<boolean>
  // ── hooks (see lib/hooks.ts and the README's "Hooks") ──
  /**
   * Who may publish with the built-in `message`/`typing` into which room (read-only rooms,
   * announcement channels, `user:<id>` inboxes). A false answer is `error` `forbidden`.
   * @default every member may publish
   */
  authorizePublish?: (user: WsUser, room: string, type: 'message' | 'typing') => boolean | Promise<boolean>
  /** How long (ms) a hook may run before it counts as failed (logged, `internal_error`). @default 5000 */
  hookTimeoutMs?: number
  /** Cluster engine: presence, fan-out, `seq` and history. @default new MemoryAdapter() */
  adapter?: Adapter
  /** Largest accepted frame in bytes; larger ones close the connection with 1009. @default 65536 */
  maxPayload?: number
  /** Per-connection rate limit, or `false` to turn it off. @default { perSecond: 20, burst: 50, closeAfter: 50 } */
  rateLimit?: RateLimitOptions | false
  /** Rooms one connection may be in at once. @default 100 */
  maxRoomsPerConnection?: number
  /** Connections this instance accepts; more are closed with 1013. @default 10000 */
  maxConnections?: number
  /** Connections one user may hold on this instance; more are closed with 4008. @default unlimited */
  maxConnectionsPerUser?: number
  /** Bytes buffered for a slow reader before its room and user deliveries are dropped (replies to its own requests still go out). @default 1048576 (1 MiB) */
  highWaterMark?: number
  /** How long (ms) a reader may stay over `highWaterMark` before it is closed with 1013. @default 5000 */
  slowConsumerGraceMs?: number
  /** Protocol-level ping interval (ms); a connection that missed the previous pong is terminated. `0` turns it off. @default 30000 */
  heartbeatIntervalMs?: number
  /** How long (ms) `app.close()` waits for running handlers before closing sockets with 1001. @default 5000 */
  shutdownTimeoutMs?: number
  /** Browser origins allowed to open a connection (`Origin` header); others get HTTP 403. @default any origin */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean)
  /**
   * Connection ids. They must be unique across every instance sharing an adapter (Redis keys
   * presence by connection id), so a per-process counter will not do.
   * @default crypto.randomUUID
   */
  generateConnectionId?: () => string
  /**
   * permessage-deflate compression (ws's option). Compression costs CPU per recipient, since each
   * socket has its own compression context, and turns off frame-once broadcasting.
   * @default false
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions
  /** The AsyncAPI export: document info, servers and the routes serving it. @default see AsyncApiOptions */
  asyncapi?: AsyncApiOptions
  /**
   * The REST history route, `GET /rooms/:room/history?before&limit`: `true` or its options.
   * @default false (no route)
   */
  history?: HistoryRouteOptions | boolean
  // ── reliability (issue #14) ──
  /**
   * How long (ms) a client message's handler may run before its request is answered with `error`
   * `handler_timeout` and the connection's next frames are processed (the handler itself is not
   * stopped; its late result is discarded). A message's own `timeoutMs` overrides it. `0` turns it off.
   * @default 30000
   */
  handlerTimeoutMs?: number
  /**
   * Check every outgoing payload against its declared schema before sending it; a payload that
   * breaks it throws `WsOutgoingFrameError` (`WS_ERR_INVALID_OUTGOING_FRAME`) to the code that sent
   * it (a handler's request is answered `internal_error`). Costs one schema check per frame sent
   * (per broadcast, not per recipient).
   * @default process.env.NODE_ENV !== 'production'
   */
  validateOutgoing?: boolean
  /** Presence in big rooms and presence state (see README "Big rooms"). @default { listLimit: 100, maxStateBytes: 1024 } */
  presence?: PresenceOptions
  /** A Prometheus scrape route (text exposition format), or `false`. @default false */
  metrics?: MetricsOptions | boolean
}

export interface PresenceOptions {
  /**
   * Members a `room_joined` lists, and the largest `get_members` page. Above this many members a
   * room no longer announces each arrival and departure (`user_joined`/`user_left`): one
   * `member_count` marks the crossing each way.
   * @default 100
   */
  listLimit?: number
  /** The largest presence state as JSON, in bytes (members lists carry up to `listLimit` states). @default 1024 */
  maxStateBytes?: number
}

export interface MetricsOptions {
  /** The scrape route. @default '/metrics' */
  path?: string
}

export interface ResolvedOptions {
  path: string
  protocol: AnyProtocol | undefined
  auth: AuthOptions | false
  authorizeJoin: WsPluginOptions['authorizeJoin']
  authorizePublish: WsPluginOptions['authorizePublish']
  hookTimeoutMs: number
  maxPayload: number
  rateLimit: Required<RateLimitOptions> | false
  maxRoomsPerConnection: number
  maxConnections: number
  maxConnectionsPerUser: number | undefined
  highWaterMark: number
  slowConsumerGraceMs: number
  heartbeatIntervalMs: number
  shutdownTimeoutMs: number
  isOriginAllowed: ((origin: string) => boolean) | undefined
  generateConnectionId: () => string
  perMessageDeflate: boolean | PerMessageDeflateOptions
  history: ResolvedHistoryOptions | undefined
  handlerTimeoutMs: number
  validateOutgoing: boolean
  presenceListLimit: number
  presenceMaxStateBytes: number
  /** The metrics route, when on. */
  metricsPath: string | undefined
}

const PLUGIN_KEYS: KeyTable<WsPluginOptions> = {
  path: true, protocol: true, auth: true, authorizeJoin: true, adapter: true, maxPayload: true, rateLimit: true,
  maxRoomsPerConnection: true, maxConnections: true, maxConnectionsPerUser: true, highWaterMark: true,
  slowConsumerGraceMs: true, heartbeatIntervalMs: true, shutdownTimeoutMs: true, allowedOrigins: true,
  generateConnectionId: true, perMessageDeflate: true, asyncapi: true, authorizePublish: true, hookTimeoutMs: true, history: true,
  handlerTimeoutMs: true, validateOutgoing: true, presence: true, metrics: true,
}
const AUTH_KEYS: KeyTable<AuthOptions> = { secret: true, verify: true, getUserId: true, authenticate: true }
const RATE_LIMIT_KEYS: KeyTable<RateLimitOptions> = { perSecond: true, burst: true, closeAfter: true }

/** The limits clients must send within, as the AsyncAPI document publishes them (`x-limits`). */
export function publishedLimits (options: ResolvedOptions): ServerLimits {
  return {
    rateLimit: options.rateLimit,
    joinAllowance: options.rateLimit === false ? 0 : options.maxRoomsPerConnection,
    maxRoomsPerConnection: options.maxRoomsPerConnection,
    maxPayload: options.maxPayload,
  }
}

export function resolveOptions (options: WsPluginOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  // Fastify's own register options (prefix, logLevel, logSerializers) arrive here too.
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...own } = options as Record<string, unknown>
  checkOptionKeys(own, PLUGIN_KEYS, '')
  const path = options.path ?? '/ws'
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalidOption('path', 'a route path starting with "/"', path)

  const auth = options.auth ?? {}
  if (auth !== false && (typeof auth !== 'object' || auth === null)) throw invalidOption('auth', 'an object or false', auth)
  if (auth !== false) {
    if (auth.secret !== undefined && (typeof auth.secret !== 'string' || auth.secret.length === 0)) throw invalidOption('auth.secret', 'a non-empty string', auth.secret)
    optionalFunction('auth.verify', auth.verify)
    optionalFunction('auth.getUserId', auth.getUserId)
    checkOptionKeys(auth, AUTH_KEYS, 'auth')
    optionalFunction('auth.authenticate', auth.authenticate)
  }

  let rateLimit: ResolvedOptions['rateLimit'] = false
  if (options.rateLimit !== false) {
    const given = options.rateLimit ?? {}
    if (typeof given !== 'object' || given === null) throw invalidOption('rateLimit', 'an object or false', given)
    checkOptionKeys(given, RATE_LIMIT_KEYS, 'rateLimit')
    rateLimit = {
      perSecond: positiveInt('rateLimit.perSecond', given.perSecond, 20),
      burst: positiveInt('rateLimit.burst', given.burst, 50),
      closeAfter: positiveInt('rateLimit.closeAfter', given.closeAfter, 50),
    }
  }

  let isOriginAllowed: ResolvedOptions['isOriginAllowed']
  const origins = options.allowedOrigins
  if (typeof origins === 'function') {
    isOriginAllowed = origins
  } else if (Array.isArray(origins)) {
    if (!origins.every((origin) => typeof origin === 'string')) throw invalidOption('allowedOrigins', 'an array of origin strings or a function', origins)
    const allowed = new Set(origins)
    isOriginAllowed = (origin) => allowed.has(origin)
  } else if (origins !== undefined) {
    throw invalidOption('allowedOrigins', 'an array of origin strings or a function', origins)
  }

  const maxConnectionsPerUser = options.maxConnectionsPerUser === undefined
    ? undefined
    : positiveInt('maxConnectionsPerUser', options.maxConnectionsPerUser, 0)

  return {
    path,
    protocol: options.protocol,
    auth,
    authorizeJoin: optionalFunction('authorizeJoin', options.authorizeJoin),
    authorizePublish: optionalFunction('authorizePublish', options.authorizePublish),
    hookTimeoutMs: positiveInt('hookTimeoutMs', options.hookTimeoutMs, 5000),
    maxPayload: positiveInt('maxPayload', options.maxPayload, 64 * 1024),
    rateLimit,
    maxRoomsPerConnection: positiveInt('maxRoomsPerConnection', options.maxRoomsPerConnection, 100),
    maxConnections: positiveInt('maxConnections', options.maxConnections, 10_000),
    maxConnectionsPerUser,
    highWaterMark: positiveInt('highWaterMark', options.highWaterMark, 1024 * 1024),
    slowConsumerGraceMs: positiveInt('slowConsumerGraceMs', options.slowConsumerGraceMs, 5000, true),
    heartbeatIntervalMs: positiveInt('heartbeatIntervalMs', options.heartbeatIntervalMs, 30_000, true),
    shutdownTimeoutMs: positiveInt('shutdownTimeoutMs', options.shutdownTimeoutMs, 5000, true),
    isOriginAllowed,
    generateConnectionId: optionalFunction('generateConnectionId', options.generateConnectionId) ?? randomUUID,
    perMessageDeflate: options.perMessageDeflate ?? false,
    history: resolveHistoryOptions(options.history),
    handlerTimeoutMs: positiveInt('handlerTimeoutMs', options.handlerTimeoutMs, 30_000, true),
    validateOutgoing: booleanOption('validateOutgoing', options.validateOutgoing, process.env.NODE_ENV !== 'production'),
    presenceListLimit: positiveInt('presence.listLimit', presenceOf(options.presence).listLimit, 100),
    presenceMaxStateBytes: positiveInt('presence.maxStateBytes', presenceOf(options.presence).maxStateBytes, 1024),
    metricsPath: metricsPathOf(options.metrics),
  }
}

function presenceOf (value: unknown): PresenceOptions {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) throw invalidOption('presence', 'an object', value)
  return value
}

function metricsPathOf (value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return '/metrics'
  if (typeof value !== 'object' || value === null) throw invalidOption('metrics', 'a boolean or { path }', value)
  const path = (value as MetricsOptions).path ?? '/metrics'
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalidOption('metrics.path', 'a route path starting with "/"', path)
  return path
}
