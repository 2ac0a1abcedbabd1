/**
 * One WebSocket connection: identity, rooms, the serial processing queue, flow control.
 * The hub owns connections; handlers see them through `ConnectionInfo`.
 */
import type { WebSocket } from 'ws'
import type { FastifyBaseLogger } from 'fastify'
import type { ConnectionInfo, HandlerContext } from './define.js'
import type { TokenBucket } from './rate-limit.js'

/** Frames that arrived for a room while a `join_room` with recovery was in progress. */
export interface HeldFrame { readonly data: Buffer, readonly seq: number | undefined }

const SEND_TEXT = { binary: false } as const

export class Connection implements ConnectionInfo {
  readonly rooms = new Set<string>()
  /** Answered the last protocol ping. */
  alive = true
  closed = false
  expiresAt: number | undefined
  expiryTimer: NodeJS.Timeout | undefined = undefined
  /** A handler is running: later frames wait in `backlog` so each connection is processed in order. */
  busy = false
  readonly backlog: Array<{ data: Buffer, isBinary: boolean }> = []
  /** Consecutive frames refused by the rate limit. */
  rateWarnings = 0
  /** When the socket's buffer first went over the high-water mark (0: it is under). */
  overSince = 0
  dropped = 0
  holding: Map<string, HeldFrame[]> | undefined = undefined
  context: HandlerContext<any> | undefined = undefined

  constructor (
    readonly id: string,
    public userId: string,
    public claims: Readonly<Record<string, unknown>>,
    readonly socket: WebSocket,
    readonly log: FastifyBaseLogger,
    readonly bucket: TokenBucket | undefined,
  ) {}

  /** Write an encoded frame as text. Returns false when flow control dropped it. */
  write (data: Buffer, highWaterMark: number): boolean {
    if (this.closed) return false
    const socket = this.socket
    if (socket.bufferedAmount > highWaterMark) {
      this.dropped++
      if (this.overSince === 0) this.overSince = Date.now()
      return false
    }
    this.overSince = 0
    socket.send(data, SEND_TEXT)
    return true
  }

  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.socket.close(code, reason)
  }
}
