/**
 * The client's public types (options, states, events) and the options resolved to settings with
 * their defaults, once, for the parts of the runtime.
 */
import { randomisedExponentialBackoff, type ReconnectPolicy } from './backoff.mjs'
import type { WebSocketConstructor } from './env.mjs'
import type { ServerError } from './errors.mjs'
import { pacingFrom, type PacingOptions } from './pacer.mjs'
import type { ServerLimits } from './protocol/index.js'

export type { PacingOptions } from './pacer.mjs'

/** Returns the token to connect with; called before every (re)connect and every token refresh. */
export type TokenProvider = () => string | Promise<string>

export interface CloseInfo {
  readonly code: number
  readonly reason: string
}

export interface HeartbeatOptions {
  /**
   * Send an application-level `ping` once nothing has arrived from the server for this long.
   * @default 15000
   */
  idleMs?: number
  /**
   * A `pong` missing for this long means the connection is dead (half-open): drop it and reconnect.
   * @default 10000
   */
  timeoutMs?: number
}

export interface TokenRefreshOptions {
  /**
   * Send `refresh_token` this long before `connected.expiresAt` (or at half the remaining lifetime,
   * whichever is later). Only when `token` is a function.
   * @default 60000
   */
  beforeExpiryMs?: number
}

export interface ClientOptions {
  /** The full WebSocket URL, e.g. `ws://127.0.0.1:3000/ws`. The token is added as `?token=`. */
  url: string
  /**
   * The JWT: a string, or a function called before every (re)connect and every refresh.
   * After a close with 4001 (unauthorized) a function is asked once more; a string is not.
   *
   * A function that throws, rejects or does not settle within `connectTimeoutMs` fails that
   * attempt like a network error: the `error` event reports it (context `token`), and the client
   * retries under the reconnect policy (`reconnecting` with reason `Token function failed` or
   * `Token function timed out`, growing backoff), keeping its rooms and queued sends (each bounded
   * by `queueTimeoutMs`). Only on the retry after a 4001 does such a failure stop the client, in
   * state `unauthorized`. A failed refresh on an open connection is reported and tried again later.
   * @default undefined (no token: for servers with `auth: false`)
   */
  token?: string | TokenProvider
  /**
   * The WebSocket implementation, e.g. `ws` on Node 20.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor
  /**
   * When to retry after a lost connection; `false` never retries. One policy object per client.
   * @default randomisedExponentialBackoff() (full jitter, 500 ms doubling to a 30 s cap, forever, reset after 10 s up)
   */
  reconnect?: ReconnectPolicy | false
  /**
   * Whether a close from the server may be retried.
   * @default shouldReconnect (from the document's `x-close-codes`; unknown codes: true)
   */
  shouldReconnect?: (close: CloseInfo) => boolean
  /**
   * Application-level heartbeat that detects half-open connections; `false` turns it off.
   * @default { idleMs: 15000, timeoutMs: 10000 }
   */
  heartbeat?: HeartbeatOptions | false
  /**
   * Refresh the token on the open connection before it expires; `false` turns it off.
   * @default { beforeExpiryMs: 60000 }
   */
  tokenRefresh?: TokenRefreshOptions | false
  /**
   * How long a request waits for its reply once sent (time in the offline queue does not count:
   * see `queueTimeoutMs`). Beyond it the request rejects with `RequestTimeoutError`.
   * @default 10000
   */
  requestTimeoutMs?: number
  /**
   * How long opening a connection may take: the token function, then up to the server's
   * `connected` frame. Beyond it the attempt fails and the reconnect policy decides what follows.
   * @default 10000
   */
  connectTimeoutMs?: number
  /**
   * Sends waiting for a connection; beyond it `send…` rejects at once with `QueueFullError`.
   * @default 100
   */
  queueSize?: number
  /**
   * How long a send may wait in the offline queue for a connection. Beyond it the send is dropped
   * unsent and rejects with `QueueTimeoutError`, so a user-facing send made while offline fails
   * in bounded time instead of waiting for as long as the client keeps retrying. Long enough to
   * ride out a deploy under the default backoff. `Infinity`: wait until the client stops.
   * @default 30000
   */
  queueTimeoutMs?: number
  /**
   * Connect on the first `send…` (or `connect()`) rather than at once.
   * @default true
   */
  lazy?: boolean
  /**
   * In browsers, retry at once when the page comes back online or visible (and check a live
   * connection with a ping).
   * @default true
   */
  reconnectOnWake?: boolean
  /**
   * Keep what the client sends within the server's rate limit: re-joins after a reconnect, the
   * offline queue and bursts of sends wait their turn (bounded by `queueTimeoutMs`) instead of
   * being refused with `rate_limited` or closed for flooding. `false` sends at once.
   * @default 80 % of the rate and burst the server publishes (`x-limits` of the document the client was generated from), plus its `join_room` allowance; none when it publishes no rate limit
   */
  pacing?: PacingOptions | false
  /**
   * Request ids (1–64 characters, unique per connection).
   * @default a counter: "1", "2", …
   */
  generateId?: () => string
}

export type ConnectionState =
  /** Created; nothing sent yet (lazy). */
  | 'idle'
  | 'connecting'
  | 'open'
  /** Lost the connection; waiting before the next attempt. */
  | 'reconnecting'
  /** Stopped: `close()`, a terminal close code, or the reconnect policy gave up. */
  | 'closed'
  /** Stopped: the server refused the token (4001), also after asking the token function again. */
  | 'unauthorized'

/** Who the server says this connection is (the `connected` frame). */
export interface Session {
  readonly connectionId: string
  readonly userId: string
  /** Token expiry (epoch ms), when the token has one. */
  readonly expiresAt?: number
}

export interface ClientEvents {
  state: { readonly state: ConnectionState, readonly previous: ConnectionState }
  /** `attempt` is 0 for the first connection, then the reconnect attempt. */
  connecting: { readonly attempt: number }
  open: Session
  reconnecting: { readonly attempt: number, readonly delayMs: number, readonly code: number, readonly reason: string }
  /** Every lost connection or failed attempt (refused, timed out, token function failed), whatever happens next. */
  disconnected: CloseInfo
  /** The client stopped (state `closed` or `unauthorized`). */
  closed: CloseInfo
  /** The server refused the token for good. `closed` follows. */
  unauthorized: CloseInfo
  /**
   * A room was joined again after a reconnect; `recovered` says whether no durable message was
   * missed. Emitted before the replayed messages reach the `on…` handlers; when `recovered` is
   * false, reload what the app shows of the room. Also emitted, with `recovered: false`, when the
   * server restarts a room's stream under a connected client (its backend lost data, or messages
   * it missed are gone): `seq` is the new baseline, the room's messages continue after it.
   */
  rejoined: { readonly room: string, readonly recovered: boolean, readonly seq: number }
  /** A room could not be joined again (e.g. `forbidden`): the client no longer tracks it. */
  rejoinFailed: { readonly room: string, readonly error: ServerError }
  /** The members view of a joined room changed (see `members(room)`). */
  members: { readonly room: string }
  tokenRefreshed: { readonly expiresAt?: number }
  /** A failure with no caller to reject: a listener threw, a refresh failed, a frame did not parse. */
  error: { readonly error: unknown, readonly context: string }
}

/** Frame metadata passed to `on…` handlers. */
export interface EventMeta {
  /** The wire type. */
  readonly type: string
  /** The room, for deliveries to room members. */
  readonly room?: string
  /** Per-room sequence number of durable room messages. */
  readonly seq?: number
  /** The request id, when the frame answers one of this client's requests. */
  readonly id?: string
}

export type MessageHandler<P> = (payload: P, meta: EventMeta) => void

export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this request. */
  timeoutMs?: number
  /** Overrides `queueTimeoutMs` for this request. */
  queueTimeoutMs?: number
}

/** Parts of the client the generated code supplies from the document. */
export interface ProtocolDefaults {
  shouldReconnect: (close: CloseInfo) => boolean
  /** The server's published limits (`x-limits`), when the document has them. */
  limits?: ServerLimits | undefined
}


/** The options with their defaults applied: what the parts of the runtime read. */
export interface Settings {
  readonly url: string
  readonly token: string | TokenProvider | undefined
  readonly WebSocket: WebSocketConstructor
  readonly policy: ReconnectPolicy | false
  readonly shouldReconnect: (close: CloseInfo) => boolean
  readonly heartbeat: Required<HeartbeatOptions> | false
  readonly refreshBeforeMs: number | false
  readonly requestTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly queueSize: number
  readonly queueTimeoutMs: number
  readonly pacing: Required<PacingOptions> | false
  readonly generateId: () => string
  readonly reconnectOnWake: boolean
  readonly lazy: boolean
}

/** Announce a client event (listener errors are reported, never thrown). */
export type Emit = <K extends keyof ClientEvents>(event: K, value: ClientEvents[K]) => void
/** Report a failure nobody can be rejected with (the `error` event). */
export type Report = (error: unknown, context: string) => void

export function resolveSettings (options: ClientOptions, defaults: ProtocolDefaults, hostWebSocket: WebSocketConstructor | undefined): Settings {
  if (typeof options?.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
    throw new TypeError(`options.url must be a ws:// or wss:// URL; got ${JSON.stringify(options?.url)}`)
  }
  const impl = options.WebSocket ?? hostWebSocket
  if (typeof impl !== 'function') {
    throw new TypeError('No WebSocket implementation: this runtime has no global WebSocket, pass options.WebSocket (e.g. the default export of `ws`)')
  }
  let counter = 0
  return {
    url: options.url,
    token: options.token,
    WebSocket: impl,
    policy: options.reconnect === false ? false : options.reconnect ?? randomisedExponentialBackoff(),
    shouldReconnect: options.shouldReconnect ?? defaults.shouldReconnect,
    heartbeat: options.heartbeat === false
      ? false
      : { idleMs: options.heartbeat?.idleMs ?? 15_000, timeoutMs: options.heartbeat?.timeoutMs ?? 10_000 },
    refreshBeforeMs: options.tokenRefresh === false ? false : options.tokenRefresh?.beforeExpiryMs ?? 60_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    queueSize: options.queueSize ?? 100,
    queueTimeoutMs: options.queueTimeoutMs ?? 30_000,
    pacing: options.pacing === undefined
      ? pacingFrom(defaults.limits)
      : options.pacing === false ? false : { joinAllowance: 0, ...options.pacing },
    generateId: options.generateId ?? (() => String(++counter)),
    reconnectOnWake: options.reconnectOnWake ?? true,
    lazy: options.lazy ?? true,
  }
}
