/**
 * The connection manager behind every generated client: lazy connect, requests matched to replies
 * by id, an offline queue, room re-join with recovery, heartbeat, token refresh and reconnects.
 * It knows the built-in messages of the server (connected, join_room, ping, refresh_token…) and
 * nothing of the app's: the generated subclass adds one typed method per message.
 */
import { randomisedExponentialBackoff, type ReconnectPolicy } from './backoff.mjs'
import { Emitter } from './emitter.mjs'
import { host, listenForWake, MAX_TIMER_MS, type TimerHandle, type WebSocketConstructor, type WebSocketLike } from './env.mjs'
import { ClientClosedError, DisconnectedError, QueueFullError, QueueTimeoutError, RealtimeError, RequestTimeoutError, ServerError } from './errors.mjs'

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
   * false, reload what the app shows of the room.
   */
  rejoined: { readonly room: string, readonly recovered: boolean, readonly seq: number }
  /** A room could not be joined again (e.g. `forbidden`): the client no longer tracks it. */
  rejoinFailed: { readonly room: string, readonly error: ServerError }
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

interface Pending {
  readonly id: string
  readonly type: string
  /** The reply type that resolves the request (`ack` when none is declared). */
  readonly expects: string
  readonly frame: string
  readonly timeoutMs: number
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  /** Runs synchronously on the reply, before any later frame is handled. */
  onReply?: (payload: any) => void
  timer?: TimerHandle
}

interface RoomJoinedReply { room: string, seq: number, recovered?: boolean }

/** Parts of the client the generated code supplies from the document. */
export interface ProtocolDefaults {
  shouldReconnect: (close: CloseInfo) => boolean
}

const TERMINAL = new Set<ConnectionState>(['closed', 'unauthorized'])
/** Close code for connections the client itself gave up on without a closing handshake. */
const ABNORMAL = 1006
const noop = (): void => {}

export class ClientCore {
  private readonly events = new Emitter<ClientEvents>()
  private readonly handlers = new Map<string, Set<MessageHandler<any>>>()
  private readonly pending = new Map<string, Pending>()
  private readonly queue: Pending[] = []
  /** Rooms joined through this client → last `seq` seen, for re-join with recovery. */
  private readonly joined = new Map<string, { lastSeq: number | undefined }>()
  private readonly WebSocketImpl: WebSocketConstructor
  private readonly policy: ReconnectPolicy | false
  private readonly shouldReconnect: (close: CloseInfo) => boolean
  private readonly heartbeat: Required<HeartbeatOptions> | false
  private readonly refreshBeforeMs: number | false
  private readonly requestTimeoutMs: number
  private readonly connectTimeoutMs: number
  private readonly queueSize: number
  private readonly queueTimeoutMs: number
  private readonly generateId: () => string
  private readonly reconnectOnWake: boolean

  private socket: WebSocketLike | undefined
  private current: ConnectionState = 'idle'
  private sessionValue: Session | undefined
  /** Bumped whenever a connection attempt is superseded, so late async steps give up. */
  private generation = 0
  private attempt = 0
  private retryingAuth = false
  private counter = 0
  private lastFrameAt = 0
  private pingInFlight = false
  private reconnectTimer: TimerHandle | undefined
  private connectTimer: TimerHandle | undefined
  private heartbeatTimer: TimerHandle | undefined
  private refreshTimer: TimerHandle | undefined
  private stopWake: (() => void) | undefined

  constructor (private readonly options: ClientOptions, defaults: ProtocolDefaults) {
    if (typeof options?.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
      throw new TypeError(`options.url must be a ws:// or wss:// URL; got ${JSON.stringify(options?.url)}`)
    }
    const impl = options.WebSocket ?? host.WebSocket
    if (typeof impl !== 'function') {
      throw new TypeError('No WebSocket implementation: this runtime has no global WebSocket, pass options.WebSocket (e.g. the default export of `ws`)')
    }
    this.WebSocketImpl = impl
    this.policy = options.reconnect === false ? false : options.reconnect ?? randomisedExponentialBackoff()
    this.shouldReconnect = options.shouldReconnect ?? defaults.shouldReconnect
    this.heartbeat = options.heartbeat === false
      ? false
      : { idleMs: options.heartbeat?.idleMs ?? 15_000, timeoutMs: options.heartbeat?.timeoutMs ?? 10_000 }
    this.refreshBeforeMs = options.tokenRefresh === false ? false : options.tokenRefresh?.beforeExpiryMs ?? 60_000
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000
    this.queueSize = options.queueSize ?? 100
    this.queueTimeoutMs = options.queueTimeoutMs ?? 30_000
    this.generateId = options.generateId ?? (() => String(++this.counter))
    this.reconnectOnWake = options.reconnectOnWake ?? true
    if (options.lazy === false) this.start()
  }

  /** The connection state; changes are announced by the `state` event. */
  get state (): ConnectionState {
    return this.current
  }

  /** The current connection's identity, while open. */
  get session (): Session | undefined {
    return this.sessionValue
  }

  /** Rooms joined through this client (re-joined after every reconnect). */
  get rooms (): string[] {
    return [...this.joined.keys()]
  }

  /** Listen to a connection event. Returns the function that removes the listener. */
  on<K extends keyof ClientEvents> (event: K, listener: (event: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /**
   * Connect now (sends connect on their own). Resolves when the connection is open; rejects with
   * `ClientClosedError` if the client stops first. Restarts a closed client.
   */
  connect (): Promise<Session> {
    if (this.current === 'open' && this.sessionValue !== undefined) return Promise.resolve(this.sessionValue)
    const opened = new Promise<Session>((resolve, reject) => {
      const offOpen = this.on('open', (session) => { offOpen(); offClosed(); resolve(session) })
      const offClosed = this.on('closed', () => { offOpen(); offClosed(); reject(new ClientClosedError('connect', this.current)) })
    })
    this.start()
    return opened
  }

  /** Close the connection and stop: no reconnect; queued and in-flight requests reject. */
  close (code = 1000, reason = 'Client closed'): void {
    if (TERMINAL.has(this.current)) return
    this.stop('closed', { code, reason }, code, reason)
  }

  /** Send a request and resolve with its reply's payload (`expects` is `ack` when none is declared). */
  protected request (type: string, payload: unknown, expects: string, options?: RequestOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (TERMINAL.has(this.current)) {
        reject(new ClientClosedError(type, this.current))
        return
      }
      const request = this.prepare(type, payload, expects, options?.timeoutMs ?? this.requestTimeoutMs, resolve, reject)
      if (type === 'join_room') {
        const since = (payload as { since?: number }).since
        request.onReply = (reply: RoomJoinedReply) => this.noteJoined(reply, since !== undefined)
      } else if (type === 'leave_room') {
        // Forget it now: a reconnect before the reply must not join the room again.
        this.joined.delete((payload as { room: string }).room)
      }
      if (this.current === 'open') {
        this.transmit(request)
      } else if (this.queue.length >= this.queueSize) {
        reject(new QueueFullError(type, this.queueSize))
      } else {
        this.queue.push(request)
        this.waitInQueue(request, options?.queueTimeoutMs ?? this.queueTimeoutMs)
        this.start()
      }
    })
  }

  /** Bound the time a send waits for a connection: offline, the app gets an answer, not a hang. */
  private waitInQueue (request: Pending, timeoutMs: number): void {
    if (timeoutMs === Infinity) return
    request.timer = host.setTimeout(() => {
      const index = this.queue.indexOf(request)
      if (index === -1) return
      this.queue.splice(index, 1)
      request.reject(new QueueTimeoutError(request.type, timeoutMs))
    }, Math.min(timeoutMs, MAX_TIMER_MS))
  }

  /** Call `handler` for every frame of `type`. Returns the function that removes it. */
  protected subscribe (type: string, handler: MessageHandler<any>): () => void {
    let set = this.handlers.get(type)
    if (set === undefined) this.handlers.set(type, set = new Set())
    set.add(handler)
    return () => { set.delete(handler) }
  }

  // ── connection lifecycle ──────────────────────────────────────────────

  private start (): void {
    if (this.current !== 'idle' && !TERMINAL.has(this.current)) return
    this.retryingAuth = false
    this.attempt = 0
    if (this.reconnectOnWake && this.stopWake === undefined) this.stopWake = listenForWake(() => this.wake())
    void this.open()
  }

  private async open (): Promise<void> {
    const generation = ++this.generation
    this.setState('connecting')
    this.emit('connecting', { attempt: this.attempt })
    // One deadline for the whole attempt, token function included: a token fetch that never
    // settles must not leave the client connecting forever.
    host.clearTimeout(this.connectTimer)
    this.connectTimer = host.setTimeout(() => this.connectTimedOut(generation), Math.min(this.connectTimeoutMs, MAX_TIMER_MS))
    let token: string | undefined
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token
    } catch (error) {
      if (generation !== this.generation) return
      this.report(error, 'token')
      this.tokenFailed('Token function failed')
      return
    }
    if (generation !== this.generation) return
    let socket: WebSocketLike
    try {
      socket = new this.WebSocketImpl(this.urlWith(token))
    } catch (error) {
      // A malformed URL: retrying cannot help.
      this.report(error, 'connect')
      this.stop('closed', { code: ABNORMAL, reason: error instanceof Error ? error.message : String(error) })
      return
    }
    this.socket = socket
    socket.onerror = noop // a close event follows every error
    socket.onmessage = (event: { data: unknown }) => {
      if (this.socket === socket) this.handleFrame(event.data)
    }
    socket.onclose = (event: { code?: number, reason?: string }) => {
      if (this.socket !== socket) return
      this.socket = undefined
      this.lost({ code: event.code ?? ABNORMAL, reason: String(event.reason ?? '') })
    }
  }

  private connectTimedOut (generation: number): void {
    this.connectTimer = undefined
    if (generation !== this.generation || this.sessionValue !== undefined) return
    if (this.socket !== undefined) {
      this.abandon('Connect timeout')
      return
    }
    // Still waiting for the token function: ignore its late answer and fail the attempt.
    this.generation++
    this.report(new RealtimeError(`Token function did not settle within ${this.connectTimeoutMs} ms`), 'token')
    this.tokenFailed('Token function timed out')
  }

  private tokenFailed (reason: string): void {
    // A failing token function after a 4001 ends it; otherwise it may be a passing outage.
    if (this.retryingAuth) this.stop('unauthorized', { code: 4001, reason })
    else this.lost({ code: ABNORMAL, reason })
  }

  private urlWith (token: string | undefined): string {
    if (token === undefined || token === '') return this.options.url
    return this.options.url + (this.options.url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token)
  }

  private handleConnected (payload: Session): void {
    host.clearTimeout(this.connectTimer)
    this.sessionValue = payload.expiresAt === undefined
      ? { connectionId: payload.connectionId, userId: payload.userId }
      : { connectionId: payload.connectionId, userId: payload.userId, expiresAt: payload.expiresAt }
    this.retryingAuth = false
    this.attempt = 0
    if (this.policy !== false) this.policy.opened()
    // Re-join first: the server handles one connection's frames in order, so the queued sends
    // below are processed after the joins and reach their rooms.
    for (const [room, entry] of this.joined) this.rejoin(room, entry.lastSeq)
    this.setState('open')
    for (const request of this.queue.splice(0)) this.transmit(request)
    this.scheduleRefresh(payload.expiresAt)
    this.startHeartbeat()
    this.emit('open', this.sessionValue)
  }

  private rejoin (room: string, since: number | undefined): void {
    const payload = since === undefined ? { room } : { room, since }
    const request = this.internal('join_room', payload, 'room_joined', this.requestTimeoutMs, (reply: RoomJoinedReply) => {
      this.noteJoined(reply, since !== undefined)
      // Here, not in a `then`: the replayed messages follow the reply, and `ws` may deliver them
      // in the same tick. The app hears of the re-join (and whether it recovered) before them.
      this.emit('rejoined', { room, recovered: reply.recovered === true, seq: reply.seq })
    })
    request.then(noop, (error: unknown) => {
      if (error instanceof ServerError) {
        this.joined.delete(room)
        this.emit('rejoinFailed', { room, error })
      }
      // Otherwise the connection dropped again: the next one re-joins.
    })
  }

  /** Track a joined room; the reply's `seq` is the baseline unless recovered messages follow it. */
  private noteJoined (reply: RoomJoinedReply, recovering: boolean): void {
    let entry = this.joined.get(reply.room)
    if (entry === undefined) this.joined.set(reply.room, entry = { lastSeq: undefined })
    // Not recovered (e.g. a restarted server whose seq starts over): the new baseline is the reply's seq.
    if (!recovering || reply.recovered !== true || entry.lastSeq === undefined) entry.lastSeq = reply.seq
  }

  /** The socket is gone (closed, or given up on). Decide between reconnecting and stopping. */
  private lost (close: CloseInfo): void {
    this.clearConnectionTimers()
    this.sessionValue = undefined
    this.rejectInFlight(close)
    this.emit('disconnected', close)
    if (close.code === 4001) {
      if (typeof this.options.token === 'function' && !this.retryingAuth) {
        this.retryingAuth = true
        this.retry(close)
      } else {
        this.stop('unauthorized', close)
      }
      return
    }
    if (!this.shouldReconnect(close)) {
      this.stop('closed', close)
      return
    }
    this.retry(close)
  }

  private retry (close: CloseInfo): void {
    const step = this.policy === false ? undefined : this.policy.next()
    if (step === undefined) {
      this.stop(this.retryingAuth ? 'unauthorized' : 'closed', close)
      return
    }
    this.attempt = step.attempt
    this.setState('reconnecting')
    this.emit('reconnecting', { attempt: step.attempt, delayMs: step.delayMs, code: close.code, reason: close.reason })
    this.reconnectTimer = host.setTimeout(() => {
      this.reconnectTimer = undefined
      void this.open()
    }, Math.min(step.delayMs, MAX_TIMER_MS))
  }

  /** Stop for good (until `connect()`): close the socket, reject everything waiting. */
  private stop (state: 'closed' | 'unauthorized', close: CloseInfo, code = 1000, reason = ''): void {
    this.generation++
    this.clearConnectionTimers()
    host.clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    const socket = this.socket
    this.socket = undefined
    if (socket !== undefined) {
      detach(socket)
      try { socket.close(code, reason) } catch { /* already closing */ }
    }
    this.sessionValue = undefined
    this.rejectInFlight(close)
    for (const request of this.queue.splice(0)) {
      host.clearTimeout(request.timer)
      request.reject(new ClientClosedError(request.type, state))
    }
    this.stopWake?.()
    this.stopWake = undefined
    this.setState(state)
    if (state === 'unauthorized') this.emit('unauthorized', close)
    this.emit('closed', close)
  }

  /** Give up on a connection that stopped answering: no closing handshake, reconnect now. */
  private abandon (reason: string): void {
    const socket = this.socket
    if (socket === undefined) return
    this.socket = undefined
    detach(socket)
    try {
      if (typeof socket.terminate === 'function') socket.terminate()
      else socket.close(4000, reason)
    } catch { /* nothing left to close */ }
    this.lost({ code: ABNORMAL, reason })
  }

  private wake (): void {
    if (this.current === 'reconnecting') {
      host.clearTimeout(this.reconnectTimer)
      this.reconnectTimer = undefined
      void this.open()
    } else if (this.current === 'open') {
      this.beat(true)
    }
  }

  private setState (state: ConnectionState): void {
    if (state === this.current) return
    const previous = this.current
    this.current = state
    this.emit('state', { state, previous })
  }

  private clearConnectionTimers (): void {
    host.clearTimeout(this.connectTimer)
    host.clearInterval(this.heartbeatTimer)
    host.clearTimeout(this.refreshTimer)
    this.connectTimer = this.heartbeatTimer = this.refreshTimer = undefined
    this.pingInFlight = false
  }

  // ── frames and requests ───────────────────────────────────────────────

  private handleFrame (data: unknown): void {
    this.lastFrameAt = Date.now()
    let frame: unknown
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data))
    } catch (error) {
      this.report(error, 'frame')
      return
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as { type?: unknown }).type !== 'string') {
      this.report(new RealtimeError('Frame without a type'), 'frame')
      return
    }
    const { type, id, room, seq, payload } = frame as { type: string, id?: unknown, room?: unknown, seq?: unknown, payload?: unknown }
    if (type === 'connected') this.handleConnected(payload as Session)
    if (typeof room === 'string' && typeof seq === 'number') {
      const entry = this.joined.get(room)
      if (entry !== undefined && (entry.lastSeq === undefined || seq > entry.lastSeq)) entry.lastSeq = seq
    }
    if (typeof id === 'string') this.settle(id, type, payload)
    const handlers = this.handlers.get(type)
    if (handlers === undefined || handlers.size === 0) return
    const meta: { type: string, room?: string, seq?: number, id?: string } = { type }
    if (typeof room === 'string') meta.room = room
    if (typeof seq === 'number') meta.seq = seq
    if (typeof id === 'string') meta.id = id
    for (const handler of [...handlers]) {
      try {
        handler(payload, meta)
      } catch (error) {
        this.report(error, `on ${type} handler`)
      }
    }
  }

  private settle (id: string, type: string, payload: unknown): void {
    const request = this.pending.get(id)
    if (request === undefined) return // a late reply after a timeout
    this.pending.delete(id)
    host.clearTimeout(request.timer)
    if (type === 'error') {
      const error = (payload ?? {}) as { code?: unknown, message?: unknown, details?: Array<{ path: string, message: string }> }
      request.reject(new ServerError(String(error.code ?? 'unknown'), String(error.message ?? 'Request failed'), request.type, error.details))
    } else if (type === request.expects) {
      request.onReply?.(payload)
      request.resolve(request.expects === 'ack' ? undefined : payload)
    } else {
      request.reject(new RealtimeError(`Unexpected reply "${type}" to "${request.type}" (expected "${request.expects}")`))
    }
  }

  private prepare (type: string, payload: unknown, expects: string, timeoutMs: number, resolve: (value: unknown) => void, reject: (error: unknown) => void): Pending {
    const id = this.generateId()
    return { id, type, expects, timeoutMs, resolve, reject, frame: JSON.stringify({ type, id, payload }) }
  }

  /** A request of the client's own (re-join, ping, refresh): sent now, never queued. */
  private internal (type: string, payload: unknown, expects: string, timeoutMs: number, onReply?: (payload: any) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request = this.prepare(type, payload, expects, timeoutMs, resolve, reject)
      if (onReply !== undefined) request.onReply = onReply
      this.transmit(request)
    })
  }

  private transmit (request: Pending): void {
    const socket = this.socket
    if (socket === undefined) {
      request.reject(new DisconnectedError(request.type, ABNORMAL, 'Not connected'))
      return
    }
    this.pending.set(request.id, request)
    host.clearTimeout(request.timer) // the queue timeout, if it waited there
    request.timer = host.setTimeout(() => {
      if (this.pending.get(request.id) !== request) return
      this.pending.delete(request.id)
      request.reject(new RequestTimeoutError(request.type, request.timeoutMs))
    }, Math.min(request.timeoutMs, MAX_TIMER_MS))
    try {
      socket.send(request.frame)
    } catch {
      // The socket is closing: its close event rejects the request with DisconnectedError.
    }
  }

  private rejectInFlight (close: CloseInfo): void {
    const requests = [...this.pending.values()]
    this.pending.clear()
    for (const request of requests) {
      host.clearTimeout(request.timer)
      request.reject(new DisconnectedError(request.type, close.code, close.reason))
    }
  }

  // ── heartbeat and token refresh ───────────────────────────────────────

  private startHeartbeat (): void {
    if (this.heartbeat === false) return
    this.lastFrameAt = Date.now()
    // Checking at half the idle time pings after 1–1.5× idleMs of silence.
    this.heartbeatTimer = host.setInterval(() => this.beat(false), Math.max(1, this.heartbeat.idleMs / 2))
  }

  private beat (force: boolean): void {
    if (this.heartbeat === false || this.current !== 'open' || this.pingInFlight) return
    if (!force && Date.now() - this.lastFrameAt < this.heartbeat.idleMs) return
    const socket = this.socket
    this.pingInFlight = true
    this.internal('ping', {}, 'pong', this.heartbeat.timeoutMs).then(() => {
      if (this.socket === socket) this.pingInFlight = false
    }, (error: unknown) => {
      if (this.socket !== socket) return
      this.pingInFlight = false
      if (error instanceof RequestTimeoutError) this.abandon('Heartbeat timeout')
    })
  }

  private scheduleRefresh (expiresAt: number | undefined): void {
    host.clearTimeout(this.refreshTimer)
    this.refreshTimer = undefined
    if (expiresAt === undefined || this.refreshBeforeMs === false || typeof this.options.token !== 'function') return
    const left = expiresAt - Date.now()
    const delay = Math.max(left - this.refreshBeforeMs, left / 2, 1000)
    this.refreshTimer = host.setTimeout(() => { void this.refresh() }, Math.min(delay, MAX_TIMER_MS))
  }

  private async refresh (): Promise<void> {
    const socket = this.socket
    const provider = this.options.token
    if (this.current !== 'open' || typeof provider !== 'function') return
    try {
      const token = await provider()
      if (this.socket !== socket || this.current !== 'open') return
      const reply = await this.internal('refresh_token', { token }, 'token_refreshed', this.requestTimeoutMs) as { expiresAt?: number }
      if (this.socket !== socket || this.sessionValue === undefined) return
      this.sessionValue = reply.expiresAt === undefined
        ? { connectionId: this.sessionValue.connectionId, userId: this.sessionValue.userId }
        : { ...this.sessionValue, expiresAt: reply.expiresAt }
      this.emit('tokenRefreshed', reply.expiresAt === undefined ? {} : { expiresAt: reply.expiresAt })
      this.scheduleRefresh(reply.expiresAt)
    } catch (error) {
      if (this.socket !== socket) return
      this.report(error, 'token refresh')
      // Try again later; if the token runs out first, the server closes with 4001 and the
      // reconnect asks the token function for a fresh one.
      this.scheduleRefresh(this.sessionValue?.expiresAt)
    }
  }

  // ── events ────────────────────────────────────────────────────────────

  private emit<K extends keyof ClientEvents> (event: K, value: ClientEvents[K]): void {
    this.events.emit(event, value, (error) => {
      if (event !== 'error') this.report(error, `${String(event)} listener`)
      else host.console?.error(error)
    })
  }

  private report (error: unknown, context: string): void {
    if (!this.events.emit('error', { error, context }, (listenerError) => host.console?.error(listenerError))) {
      host.console?.error(`[realtime-client] ${context}:`, error)
    }
  }
}

function detach (socket: WebSocketLike): void {
  socket.onopen = null
  socket.onmessage = null
  socket.onclose = null
  // Keep a no-op: `ws` throws on an 'error' event nobody listens to.
  socket.onerror = noop
}
