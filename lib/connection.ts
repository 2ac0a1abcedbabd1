/**
 * One WebSocket connection: identity, rooms, the serial processing queue, flow control.
 * The hub owns connections; handlers see them through `ConnectionInfo`.
 */
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { FastifyBaseLogger } from 'fastify'
import type { ConnectionInfo, HandlerContext } from './define.js'
import type { TokenBucket } from './rate-limit.js'
import { directSocketOf, senderIdle, writeDirect, type OutgoingFrame, type WsSender } from './ws-frame.js'

/** Frames that arrived for a room while a `join_room` with recovery was in progress. */
export interface HeldFrame { readonly data: Buffer, readonly seq: number | undefined }

const SEND_TEXT = { binary: false } as const
const OPEN = 1

export class Connection implements ConnectionInfo {
  readonly rooms = new Set<string>()
  /** Answered the last protocol ping. */
  alive = true
  closed = false
  /** `connected` has been sent: nothing else may reach the client before it. */
  greeted = false
  /** The adapter was told of it (`addConnection`): it must be told when it goes (greeting.ts). */
  registered = false
  expiresAt: number | undefined
  expiryTimer: NodeJS.Timeout | undefined = undefined
  /** A handler is running: later frames wait in `backlog` so each connection is processed in order. */
  busy = false
  /** Made on the first frame that has to wait (most connections never have one). */
  backlog: Array<{ data: Buffer, isBinary: boolean }> | undefined = undefined
  /** Pipelined publishes in flight (see dispatch.ts), and the last one's reply, which the next waits for. */
  pipelined = 0
  lastReply: Promise<void> | undefined = undefined
  /** Consecutive frames refused by the rate limit. */
  rateWarnings = 0
  /** When the socket's buffer first went over the high-water mark (0: it is under). */
  overSince = 0
  dropped = 0
  holding: Map<string, HeldFrame[]> | undefined = undefined
  /** Bytes of the frames in `holding` (they count against the high-water mark). */
  heldBytes = 0
  /**
   * Per room, the last `seq` a recovering join replayed. The live copy of a replayed frame can reach
   * this instance after the join (pub/sub runs behind the store the replay read): it is not sent
   * again. Cleared by the first newer frame of the room.
   */
  replayedUpTo: Map<string, number> | undefined = undefined
  /** Rooms where flow control dropped a frame for this connection: a repeated join of one may replay. */
  gaps: Set<string> | undefined = undefined
  /** Rooms where this connection set a presence state (forgotten when it leaves them). */
  stated: Set<string> | undefined = undefined
  context: HandlerContext<any> | undefined = undefined
  /** The app's data for this connection (`ctx.data`); `{}` is made when a handler first reads it. */
  data: unknown = undefined
  /** While `onConnect` hooks run, frames wait here so `connected` still goes first (greeting.ts). */
  pending: OutgoingFrame[] | undefined = undefined
  /** Its `onConnect` hooks succeeded (or there were none): `onDisconnect` hooks will run for it. */
  accepted = false

  constructor (
    readonly id: string,
    public userId: string,
    public claims: Readonly<Record<string, unknown>>,
    readonly socket: WebSocket,
    private readonly parentLog: FastifyBaseLogger,
    readonly bucket: TokenBucket | undefined,
  ) {
    const direct = directSocketOf(socket)
    this.direct = direct?.socket
    this.sender = direct?.sender
  }

  /** The TCP socket pre-framed bytes go to (undefined: write through `ws.send`). See ws-frame.ts. */
  private readonly direct: Socket | undefined
  private readonly sender: WsSender | undefined
  /** Stamp of the tick of the last direct write (coalescing, see ws-frame.ts). */
  private writeTick = 0
  private childLog: FastifyBaseLogger | undefined = undefined

  /**
   * The upgrade request's logger bound to this connection's ids. Made on first use: most
   * connections never log, and a pino child (its bindings serialised) is ~0.5 KB each.
   */
  get log (): FastifyBaseLogger {
    return (this.childLog ??= this.parentLog.child({ connectionId: this.id, userId: this.userId }))
  }

  /**
   * Write an encoded message as a text frame. Returns false when flow control dropped it.
   * `force` frames (replies to this connection's own requests) are written over the mark too: a
   * lost reply cannot be detected by the client, and their volume is bounded by the rate limit.
   */
  write (out: OutgoingFrame, highWaterMark: number, force = false): boolean {
    if (this.closed) return false
    if (this.pending !== undefined) {
      this.pending.push(out)
      return true
    }
    const socket = this.socket
    if (socket.bufferedAmount > highWaterMark) {
      if (this.overSince === 0) this.overSince = Date.now()
      if (!force) {
        this.dropped++
        return false
      }
    } else {
      this.overSince = 0
    }
    // OPEN only: once ws has started closing, nothing may follow its close frame.
    if (this.direct !== undefined && socket.readyState === OPEN && senderIdle(this.sender!)) this.writeTick = writeDirect(this.direct, out.frame, this.writeTick)
    else socket.send(out.payload, SEND_TEXT)
    return true
  }

  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.socket.close(code, reason)
  }
}
