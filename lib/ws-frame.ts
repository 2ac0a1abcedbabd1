/**
 * Frame once, write many. A server→client WebSocket frame is not masked, so its bytes (header and
 * payload) are the same for every recipient: a broadcast is framed once and that one Buffer is
 * written straight to each recipient's TCP socket — no header, cork and writev per recipient.
 *
 * ws's Sender is bypassed only where that is safe (`directSocketOf`): no extension negotiated
 * (permessage-deflate compresses per socket) and, checked at every write, the Sender idle with
 * nothing queued (it queues only behind a compression or a Blob read), so these bytes never
 * interleave with ws's own frames (ping, close). ws's `bufferedAmount` is the socket's write
 * buffer plus the Sender's queue, so flow control still counts every byte written here.
 */
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'

/** The ws 8 internals this relies on; anything else falls back to `ws.send`. */
export interface WsSender { _state: number, _queue: unknown[] }
interface WsInternals { _socket?: Socket, _sender?: Partial<WsSender>, _extensions?: Record<string, unknown> }

/** ws's Sender `DEFAULT` state: not compressing, not reading a Blob. */
const SENDER_IDLE = 0

/** The socket and Sender to write pre-framed bytes through, or undefined to use `ws.send`. */
export function directSocketOf (ws: WebSocket): { socket: Socket, sender: WsSender } | undefined {
  const internals = ws as unknown as WsInternals
  const sender = internals._sender
  if (internals._socket === undefined || sender === undefined) return undefined
  if (typeof sender._state !== 'number' || !Array.isArray(sender._queue)) return undefined
  if (internals._extensions === undefined || Object.keys(internals._extensions).length > 0) return undefined
  return { socket: internals._socket, sender: sender as WsSender }
}

/**
 * Coalescing within a tick. A socket's first frame in a tick is written at once (latency as with
 * ws); if more follow in the same tick — several broadcasts handled in one tick, e.g. publishes
 * that arrived in one TCP read — the socket is corked and they leave together in one syscall when
 * the tick ends, instead of one syscall each.
 */
let tick = 1
let boundaryScheduled = false
/**
 * A corked batch is flushed early past this size. Corked bytes count in `bufferedAmount`, so a
 * long synchronous burst would otherwise look like a slow reader to flow control and be dropped.
 */
const MAX_CORKED_BYTES = 64 * 1024
const corked: Socket[] = []
/** The tick in which a burst is being written: then a socket is corked from its first frame. */
let burstTick = 0

/**
 * The frames written until the end of this tick are a burst known in advance (several messages
 * read at once): cork each socket from its first frame, so its frames leave in one syscall
 * instead of two (the first alone, the rest together).
 */
export function beginBurst (): void {
  burstTick = tick
  // The burst ends with this tick even if it writes nothing.
  if (!boundaryScheduled) {
    boundaryScheduled = true
    process.nextTick(endOfTick)
  }
}

function endOfTick (): void {
  tick++
  boundaryScheduled = false
  for (let i = 0; i < corked.length; i++) corked[i]!.uncork()
  corked.length = 0
}

/** Write pre-framed bytes. Pass the stamp this returned last time for the socket (0 at first). */
export function writeDirect (socket: Socket, frame: Buffer, lastWriteTick: number): number {
  if (!boundaryScheduled) {
    boundaryScheduled = true
    process.nextTick(endOfTick)
  }
  if ((lastWriteTick === tick || burstTick === tick) && socket.writableCorked === 0) {
    socket.cork()
    corked.push(socket)
  }
  socket.write(frame)
  if (socket.writableCorked !== 0 && socket.writableLength >= MAX_CORKED_BYTES) socket.uncork()
  return tick
}

export function senderIdle (sender: WsSender): boolean {
  return sender._state === SENDER_IDLE && sender._queue.length === 0
}

/** An encoded text message, framed on first use (once, whatever the number of recipients). */
export class OutgoingFrame {
  private framed: Buffer | undefined = undefined

  constructor (readonly payload: Buffer) {}

  /** FIN + text opcode, the unmasked length, then the payload (RFC 6455 §5.2). */
  get frame (): Buffer {
    if (this.framed !== undefined) return this.framed
    const payload = this.payload
    const length = payload.length
    const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10
    const frame = Buffer.allocUnsafe(headerLength + length)
    frame[0] = 0x81
    if (length < 126) {
      frame[1] = length
    } else if (length < 65536) {
      frame[1] = 126
      frame.writeUInt16BE(length, 2)
    } else {
      frame[1] = 127
      frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
      frame.writeUInt32BE(length >>> 0, 6)
    }
    payload.copy(frame, headerLength)
    this.framed = frame
    return frame
  }
}
