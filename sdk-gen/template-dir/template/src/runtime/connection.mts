/**
 * The connection machine: one socket at a time, its states and every transition between them.
 *
 *   idle | closed | unauthorized ──start──▶ connecting(attempt 0)
 *   connecting ──`connected` frame──▶ open
 *   connecting | open ──socket lost──▶ reconnecting (policy, close code; no sooner than a delay the reason names) | closed | unauthorized
 *   connecting ──token function failed or timed out──▶ as a lost socket (unauthorized after a 4001)
 *   connecting ──socket cannot be created (bad URL)──▶ closed
 *   reconnecting ──delay over, or the page wakes──▶ connecting(attempt n)
 *   any but closed | unauthorized ──stop (close(), terminal code, policy gave up)──▶ closed | unauthorized
 *
 * Each state is an object; an async step (the token function, a timer) holds the state it started
 * in and gives up when that is no longer the current one. What happens around a transition (re-joins,
 * the queue, heartbeat, events) belongs to the other parts, told through `ConnectionHooks`.
 */
import { host, listenForWake, MAX_TIMER_MS, type TimerHandle, type WebSocketLike } from './env.mjs'
import { RealtimeError } from './errors.mjs'
import type { CloseInfo, ConnectionState, Session, Settings } from './options.mjs'
import { ClientCloseCode, CloseCode, retryAfterMs, urlWithToken } from './protocol/index.js'
import type { TokenSource } from './token.mjs'

type Phase =
  | { readonly state: 'idle' | 'closed' | 'unauthorized' }
  | Connecting
  | Open
  | { readonly state: 'reconnecting', readonly attempt: number, readonly afterUnauthorized: boolean, readonly timer: TimerHandle }

interface Connecting {
  readonly state: 'connecting'
  /** 0 for the first connection, then the reconnect attempt. */
  readonly attempt: number
  /** Retrying once after a 4001 with a fresh token: a second refusal is final. */
  readonly afterUnauthorized: boolean
  /** One deadline for the whole attempt, token function included. */
  deadline: TimerHandle | undefined
  /** Set once the token is in hand; unset again when the socket is lost. */
  socket: WebSocketLike | undefined
}

interface Open {
  readonly state: 'open'
  /** Unset when the socket is lost, for the moment before the next state is chosen. */
  socket: WebSocketLike | undefined
  session: Session
}

/** What the rest of the client does around the machine's transitions. */
export interface ConnectionHooks {
  stateChanged (state: ConnectionState, previous: ConnectionState): void
  connecting (attempt: number): void
  /** A frame arrived on the current socket. */
  frame (data: unknown): void
  /** `connected` arrived; still `connecting`: what must reach the server before any queued send. */
  opening (session: Session): void
  /** Now `open`. */
  opened (session: Session): void
  /** The socket is gone, whatever comes next: end what belonged to it. */
  dropped (close: CloseInfo): void
  reconnecting (event: { attempt: number, delayMs: number, code: number, reason: string }): void
  /** Stopping for good: end what waits for a connection. The state is not announced yet. */
  stopping (state: 'closed' | 'unauthorized', close: CloseInfo): void
  /** Stopped, and the state announced. */
  stopped (state: 'closed' | 'unauthorized', close: CloseInfo): void
  /** The page woke up (online, visible) while open: check the connection. */
  woke (): void
  report (error: unknown, context: string): void
}

const noop = (): void => {}

export class ConnectionMachine {
  private phase: Phase = { state: 'idle' }
  private stopWake: (() => void) | undefined

  constructor (private readonly settings: Settings, private readonly token: TokenSource, private readonly hooks: ConnectionHooks) {}

  get state (): ConnectionState {
    return this.phase.state
  }

  get open (): boolean {
    return this.phase.state === 'open'
  }

  get stopped (): boolean {
    return this.phase.state === 'closed' || this.phase.state === 'unauthorized'
  }

  /** The socket of the attempt or open connection, once there is one. */
  get socket (): WebSocketLike | undefined {
    return this.phase.state === 'connecting' || this.phase.state === 'open' ? this.phase.socket : undefined
  }

  get session (): Session | undefined {
    return this.phase.state === 'open' && this.phase.socket !== undefined ? this.phase.session : undefined
  }

  /** The server confirmed a refreshed token: the open connection's session says so. */
  set session (session: Session | undefined) {
    if (session !== undefined && this.phase.state === 'open' && this.phase.socket !== undefined) this.phase.session = session
  }

  /** idle | closed | unauthorized → connecting. Anything else: already under way. */
  start (): void {
    if (this.phase.state !== 'idle' && !this.stopped) return
    if (this.settings.reconnectOnWake && this.stopWake === undefined) this.stopWake = listenForWake(() => this.wake())
    void this.connect(0, false)
  }

  /** → closed, at the app's request. */
  close (code: number, reason: string): void {
    if (this.stopped) return
    this.stop('closed', { code, reason }, code, reason)
  }

  /** connecting → open, on the server's `connected` frame. */
  established (payload: Session): void {
    const phase = this.phase
    if (phase.state !== 'connecting' || phase.socket === undefined) return
    host.clearTimeout(phase.deadline)
    const session: Session = payload.expiresAt === undefined
      ? { connectionId: payload.connectionId, userId: payload.userId }
      : { connectionId: payload.connectionId, userId: payload.userId, expiresAt: payload.expiresAt }
    if (this.settings.policy !== false) this.settings.policy.opened()
    this.hooks.opening(session)
    const open: Open = { state: 'open', socket: phase.socket, session }
    this.enter(open)
    if (this.phase === open) this.hooks.opened(session)
  }

  /** Give up on a connection that stopped answering: no closing handshake, treat it as lost. */
  abandon (reason: string): void {
    const socket = this.socket
    if (socket === undefined) return
    detach(socket)
    try {
      if (typeof socket.terminate === 'function') socket.terminate()
      else socket.close(ClientCloseCode.Abandoned, reason)
    } catch { /* nothing left to close */ }
    this.lost({ code: ClientCloseCode.Abnormal, reason })
  }

  private async connect (attempt: number, afterUnauthorized: boolean): Promise<void> {
    const phase: Connecting = { state: 'connecting', attempt, afterUnauthorized, deadline: undefined, socket: undefined }
    this.enter(phase)
    this.hooks.connecting(attempt)
    if (this.phase !== phase) return
    phase.deadline = host.setTimeout(() => this.timedOut(phase), Math.min(this.settings.connectTimeoutMs, MAX_TIMER_MS))
    let token: string | undefined
    try {
      token = await this.token.get()
    } catch (error) {
      if (this.phase !== phase) return
      this.hooks.report(error, 'token')
      this.tokenFailed(phase, 'Token function failed')
      return
    }
    if (this.phase !== phase) return
    let socket: WebSocketLike
    try {
      socket = new this.settings.WebSocket(urlWithToken(this.settings.url, token))
    } catch (error) {
      // A malformed URL: retrying cannot help.
      this.hooks.report(error, 'connect')
      this.stop('closed', { code: ClientCloseCode.Abnormal, reason: error instanceof Error ? error.message : String(error) })
      return
    }
    phase.socket = socket
    socket.onerror = noop // a close event follows every error
    socket.onmessage = (event: { data: unknown }) => {
      if (this.socket === socket) this.hooks.frame(event.data)
    }
    socket.onclose = (event: { code?: number, reason?: string }) => {
      if (this.socket === socket) this.lost({ code: event.code ?? ClientCloseCode.Abnormal, reason: String(event.reason ?? '') })
    }
  }

  private timedOut (phase: Connecting): void {
    phase.deadline = undefined
    if (this.phase !== phase) return
    if (phase.socket !== undefined) {
      this.abandon('Connect timeout')
      return
    }
    // Still waiting for the token function: leaving this state makes its late answer moot.
    this.hooks.report(new RealtimeError(`Token function did not settle within ${this.settings.connectTimeoutMs} ms`), 'token')
    this.tokenFailed(phase, 'Token function timed out')
  }

  private tokenFailed (phase: Connecting, reason: string): void {
    // A failing token function after a 4001 ends it; otherwise it may be a passing outage.
    if (phase.afterUnauthorized) this.stop('unauthorized', { code: CloseCode.Unauthorized, reason })
    else this.lost({ code: ClientCloseCode.Abnormal, reason })
  }

  /** connecting | open → reconnecting | closed | unauthorized: the socket is gone (or never came). */
  private lost (close: CloseInfo): void {
    const phase = this.phase
    if (phase.state !== 'connecting' && phase.state !== 'open') return
    if (phase.state === 'connecting') host.clearTimeout(phase.deadline)
    phase.socket = undefined
    const afterUnauthorized = phase.state === 'connecting' && phase.afterUnauthorized
    this.hooks.dropped(close)
    if (this.phase !== phase) return // a listener stopped the client
    if (close.code === CloseCode.Unauthorized) {
      if (this.token.renewable && !afterUnauthorized) this.retry(close, true)
      else this.stop('unauthorized', close)
    } else if (!this.settings.shouldReconnect(close)) {
      this.stop('closed', close)
    } else {
      this.retry(close, afterUnauthorized)
    }
  }

  private retry (close: CloseInfo, afterUnauthorized: boolean): void {
    const next = this.settings.policy === false ? undefined : this.settings.policy.next()
    if (next === undefined) {
      this.stop(afterUnauthorized ? 'unauthorized' : 'closed', close)
      return
    }
    // A close that names a delay (a rate close: `…; retry after 2500 ms`) is waited out at least.
    const step = { attempt: next.attempt, delayMs: Math.max(next.delayMs, retryAfterMs(close.reason) ?? 0) }
    const timer = host.setTimeout(() => {
      if (this.phase === phase) void this.connect(step.attempt, afterUnauthorized)
    }, Math.min(step.delayMs, MAX_TIMER_MS))
    const phase: Phase = { state: 'reconnecting', attempt: step.attempt, afterUnauthorized, timer }
    this.enter(phase)
    this.hooks.reconnecting({ attempt: step.attempt, delayMs: step.delayMs, code: close.code, reason: close.reason })
  }

  /** → closed | unauthorized: close the socket, end everything waiting (until `start()`). */
  private stop (state: 'closed' | 'unauthorized', close: CloseInfo, code: number = CloseCode.Normal, reason = ''): void {
    const phase = this.phase
    const socket = this.socket
    if (phase.state === 'connecting') host.clearTimeout(phase.deadline)
    if (phase.state === 'reconnecting') host.clearTimeout(phase.timer)
    this.phase = { state }
    if (socket !== undefined) {
      detach(socket)
      try { socket.close(code, reason) } catch { /* already closing */ }
    }
    this.hooks.stopping(state, close)
    this.stopWake?.()
    this.stopWake = undefined
    if (phase.state !== state) this.hooks.stateChanged(state, phase.state)
    this.hooks.stopped(state, close)
  }

  private wake (): void {
    const phase = this.phase
    if (phase.state === 'reconnecting') {
      host.clearTimeout(phase.timer)
      void this.connect(phase.attempt, phase.afterUnauthorized)
    } else if (phase.state === 'open') {
      this.hooks.woke()
    }
  }

  private enter (phase: Phase): void {
    const previous = this.phase.state
    this.phase = phase
    if (phase.state !== previous) this.hooks.stateChanged(phase.state, previous)
  }
}

function detach (socket: WebSocketLike): void {
  socket.onopen = null
  socket.onmessage = null
  socket.onclose = null
  // Keep a no-op: `ws` throws on an 'error' event nobody listens to.
  socket.onerror = noop
}
