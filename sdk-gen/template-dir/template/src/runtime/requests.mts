/**
 * Requests and the offline queue. A request is in one of four places: the queue (waiting for a
 * connection, bounded in size and time), the outbox (connected, waiting for its turn under the
 * server's published rate limit: `pacer.mts`; bounded in time like the queue), in flight (sent,
 * waiting for the reply with its id), or settled. The queue drains in order into the outbox once
 * the connection is open (`flush`); a frame never sent when the connection drops goes back to the
 * queue (app requests) or is dropped (the client's own: re-joins happen again on the next one).
 */
import { host, MAX_TIMER_MS, type TimerHandle, type WebSocketLike } from './env.mjs'
import { ClientClosedError, DisconnectedError, QueueFullError, QueueTimeoutError, RealtimeError, RequestTimeoutError, ServerError } from './errors.mjs'
import type { CloseInfo, Settings } from './options.mjs'
import { Pacer } from './pacer.mjs'
import { ClientCloseCode, ClientMessage, encodeClientFrame, ServerMessage } from './protocol/index.js'

export interface Request {
  readonly id: string
  readonly type: string
  /** The reply type that resolves the request (`ack` when none is declared). */
  readonly expects: string
  readonly frame: string
  readonly timeoutMs: number
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  /** Runs synchronously on the reply, before any later frame is handled. */
  onReply?: ((payload: any) => void) | undefined
  /** The queue timeout while queued or in the outbox, then the reply timeout. */
  timer?: TimerHandle
  /** How long an app request may wait to be sent (`queueTimeoutMs`); undefined: the client's own request. */
  waitMs?: number
}

export class Requests {
  private readonly inFlight = new Map<string, Request>()
  private readonly queue: Request[] = []
  private readonly outbox: Request[] = []
  private readonly pacer: Pacer
  private pumpTimer: TimerHandle | undefined

  constructor (private readonly settings: Settings, private readonly socket: () => WebSocketLike | undefined) {
    this.pacer = new Pacer(settings.pacing)
  }

  /** A new connection: the server's rate limit starts afresh for it. */
  connectionOpened (): void {
    this.pacer.reset(Date.now())
  }

  create (type: string, payload: unknown, expects: string, timeoutMs: number, resolve: (value: unknown) => void, reject: (error: unknown) => void): Request {
    const id = this.settings.generateId()
    return { id, type, expects, timeoutMs, resolve, reject, frame: encodeClientFrame(type, id, payload) }
  }

  /**
   * A request of the client's own (re-join, ping, refresh): never queued offline. `urgent` ones
   * (liveness, token) go ahead of the outbox.
   */
  internal (type: string, payload: unknown, expects: string, timeoutMs: number, onReply?: (payload: any) => void, urgent = false): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request = this.create(type, payload, expects, timeoutMs, resolve, reject)
      request.onReply = onReply
      this.transmit(request, urgent)
    })
  }

  /** Queue a request until the connection opens. False (and rejected) when the queue is full. */
  enqueue (request: Request, timeoutMs: number): boolean {
    if (this.queue.length >= this.settings.queueSize) {
      request.reject(new QueueFullError(request.type, this.settings.queueSize))
      return false
    }
    this.queue.push(request)
    request.waitMs = timeoutMs
    this.armWait(request)
    return true
  }

  /** Bound the time a send waits to be sent: offline or paced, the app gets an answer, not a hang. */
  private armWait (request: Request): void {
    const timeoutMs = request.waitMs
    if (request.timer !== undefined || timeoutMs === undefined || timeoutMs === Infinity) return
    request.timer = host.setTimeout(() => {
      for (const list of [this.queue, this.outbox]) {
        const index = list.indexOf(request)
        if (index === -1) continue
        list.splice(index, 1)
        request.reject(new QueueTimeoutError(request.type, timeoutMs))
      }
    }, Math.min(timeoutMs, MAX_TIMER_MS))
  }

  /** Send everything queued, in order, paced. */
  flush (): void {
    for (const request of this.queue.splice(0)) this.transmit(request)
  }

  /** Send when the pacing allows (at once, mostly), in order; `urgent`: before whatever waits. */
  transmit (request: Request, urgent = false): void {
    if (this.socket() === undefined) {
      request.reject(new DisconnectedError(request.type, ClientCloseCode.Abnormal, 'Not connected'))
      return
    }
    if (urgent) this.outbox.unshift(request)
    else this.outbox.push(request)
    this.pump()
    // Still waiting for its turn: bounded in time like the offline queue.
    if (!this.inFlight.has(request.id) && this.outbox.length > 0) this.armWait(request)
  }

  private pump (): void {
    while (this.outbox.length > 0) {
      const waitMs = this.pacer.take(this.outbox[0]!.type === ClientMessage.JoinRoom, Date.now())
      if (waitMs > 0) {
        this.pumpTimer ??= host.setTimeout(() => {
          this.pumpTimer = undefined
          this.pump()
        }, waitMs)
        return
      }
      this.send(this.outbox.shift()!)
    }
  }

  private send (request: Request): void {
    const socket = this.socket()
    if (socket === undefined) {
      request.reject(new DisconnectedError(request.type, ClientCloseCode.Abnormal, 'Not connected'))
      return
    }
    this.inFlight.set(request.id, request)
    host.clearTimeout(request.timer) // the queue timeout, if it waited there
    request.timer = host.setTimeout(() => {
      if (this.inFlight.get(request.id) !== request) return
      this.inFlight.delete(request.id)
      request.reject(new RequestTimeoutError(request.type, request.timeoutMs))
    }, Math.min(request.timeoutMs, MAX_TIMER_MS))
    try {
      socket.send(request.frame)
    } catch {
      // The socket is closing: its close event rejects the request with DisconnectedError.
    }
  }

  /** A frame with an id: the reply (or `error`) of the request with that id. */
  settle (id: string, type: string, payload: unknown): void {
    const request = this.inFlight.get(id)
    if (request === undefined) return // a late reply after a timeout
    this.inFlight.delete(id)
    host.clearTimeout(request.timer)
    if (type === ServerMessage.Error) {
      const error = (payload ?? {}) as { code?: unknown, message?: unknown, details?: Array<{ path: string, message: string }> }
      request.reject(new ServerError(String(error.code ?? 'unknown'), String(error.message ?? 'Request failed'), request.type, error.details))
    } else if (type === request.expects) {
      request.onReply?.(payload)
      request.resolve(request.expects === ServerMessage.Ack ? undefined : payload)
    } else {
      request.reject(new RealtimeError(`Unexpected reply "${type}" to "${request.type}" (expected "${request.expects}")`))
    }
  }

  /**
   * The connection dropped: whatever was in flight may or may not have been processed. What was
   * never sent is safe to send later: app requests go back to the front of the queue, in order.
   */
  rejectInFlight (close: CloseInfo): void {
    host.clearTimeout(this.pumpTimer)
    this.pumpTimer = undefined
    const unsent = this.outbox.splice(0)
    this.queue.unshift(...unsent.filter((request) => request.waitMs !== undefined))
    for (const request of unsent) {
      if (request.waitMs === undefined) request.reject(new DisconnectedError(request.type, close.code, close.reason))
    }
    const requests = [...this.inFlight.values()]
    this.inFlight.clear()
    for (const request of requests) {
      host.clearTimeout(request.timer)
      request.reject(new DisconnectedError(request.type, close.code, close.reason))
    }
  }

  /** The client stopped: nothing queued will be sent. */
  rejectQueued (state: string): void {
    for (const request of this.queue.splice(0)) {
      host.clearTimeout(request.timer)
      request.reject(new ClientClosedError(request.type, state))
    }
  }
}
