/**
 * Requests and the offline queue. A request is in one of three places: the queue (waiting for a
 * connection, bounded in size and time), in flight (sent, waiting for the reply with its id), or
 * settled. The queue drains in order once the connection is open (`flush`): the place where
 * pacing within limits the server publishes would go.
 */
import { host, MAX_TIMER_MS, type TimerHandle, type WebSocketLike } from './env.mjs'
import { ClientClosedError, DisconnectedError, QueueFullError, QueueTimeoutError, RealtimeError, RequestTimeoutError, ServerError } from './errors.mjs'
import type { CloseInfo, Settings } from './options.mjs'
import { ClientCloseCode, encodeClientFrame, ServerMessage } from './protocol/index.js'

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
  /** The queue timeout while queued, then the reply timeout. */
  timer?: TimerHandle
}

export class Requests {
  private readonly inFlight = new Map<string, Request>()
  private readonly queue: Request[] = []

  constructor (private readonly settings: Settings, private readonly socket: () => WebSocketLike | undefined) {}

  create (type: string, payload: unknown, expects: string, timeoutMs: number, resolve: (value: unknown) => void, reject: (error: unknown) => void): Request {
    const id = this.settings.generateId()
    return { id, type, expects, timeoutMs, resolve, reject, frame: encodeClientFrame(type, id, payload) }
  }

  /** A request of the client's own (re-join, ping, refresh): sent now, never queued. */
  internal (type: string, payload: unknown, expects: string, timeoutMs: number, onReply?: (payload: any) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request = this.create(type, payload, expects, timeoutMs, resolve, reject)
      request.onReply = onReply
      this.transmit(request)
    })
  }

  /** Queue a request until the connection opens. False (and rejected) when the queue is full. */
  enqueue (request: Request, timeoutMs: number): boolean {
    if (this.queue.length >= this.settings.queueSize) {
      request.reject(new QueueFullError(request.type, this.settings.queueSize))
      return false
    }
    this.queue.push(request)
    // Bound the time a send waits for a connection: offline, the app gets an answer, not a hang.
    if (timeoutMs !== Infinity) {
      request.timer = host.setTimeout(() => {
        const index = this.queue.indexOf(request)
        if (index === -1) return
        this.queue.splice(index, 1)
        request.reject(new QueueTimeoutError(request.type, timeoutMs))
      }, Math.min(timeoutMs, MAX_TIMER_MS))
    }
    return true
  }

  /** Send everything queued, in order. */
  flush (): void {
    for (const request of this.queue.splice(0)) this.transmit(request)
  }

  transmit (request: Request): void {
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

  /** The connection dropped: whatever was in flight may or may not have been processed. */
  rejectInFlight (close: CloseInfo): void {
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
