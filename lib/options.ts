/**
 * Plugin options: their types (with documented defaults), and the check that fails fast at
 * registration with a coded error naming the bad option.
 */
import { randomUUID } from 'node:crypto'
import type { PerMessageDeflateOptions } from 'ws'
import type { Adapter } from './adapter.js'
import type { AsyncApiOptions } from './asyncapi/options.js'
import type { AnyProtocol } from './define.js'
import { invalidOption } from './errors.js'
import type { WsUser } from './types.js'

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
   * The user id of verified claims.
   * @default claims => claims.sub
   */
  getUserId?: (claims: Record<string, unknown>) => string
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
  /** Presence in big rooms (see README "Big rooms"). @default { listLimit: 100 } */
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
  presenceListLimit: number
  /** The metrics route, when on. */
  metricsPath: string | undefined
}

function positiveInt (name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw invalidOption(name, allowZero ? 'an integer ≥ 0' : 'a positive integer', value)
  }
  return value
}

function optionalFunction<T> (name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(name, 'a function', value)
  return value
}

export function resolveOptions (options: WsPluginOptions): ResolvedOptions {
  const path = options.path ?? '/ws'
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalidOption('path', 'a route path starting with "/"', path)

  const auth = options.auth ?? {}
  if (auth !== false && (typeof auth !== 'object' || auth === null)) throw invalidOption('auth', 'an object or false', auth)
  if (auth !== false) {
    if (auth.secret !== undefined && (typeof auth.secret !== 'string' || auth.secret.length === 0)) throw invalidOption('auth.secret', 'a non-empty string', auth.secret)
    optionalFunction('auth.verify', auth.verify)
    optionalFunction('auth.getUserId', auth.getUserId)
  }

  let rateLimit: ResolvedOptions['rateLimit'] = false
  if (options.rateLimit !== false) {
    const given = options.rateLimit ?? {}
    if (typeof given !== 'object' || given === null) throw invalidOption('rateLimit', 'an object or false', given)
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
    presenceListLimit: positiveInt('presence.listLimit', presenceOf(options.presence).listLimit, 100),
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
