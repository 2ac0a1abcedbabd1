/**
 * Rooms and recovery. The client tracks the rooms joined through it, with the last `seq` seen in
 * each, and joins them again after every reconnect with `since`, so the server replays what was
 * missed. A room enters the set on a `room_joined` reply and leaves it on `leave_room` or a refused
 * re-join; every frame with a room and a seq moves that room's mark. Membership changes the server
 * makes on its own would arrive as frames here too (`observe`).
 */
import { host } from './env.mjs'
import { RequestTimeoutError, ServerError } from './errors.mjs'
import type { Emit, Settings } from './options.mjs'
import { ClientMessage, ServerMessage, type ServerFrame } from './protocol/index.js'
import type { Requests } from './requests.mjs'

interface RoomJoinedReply { room: string, seq: number, recovered?: boolean }

/** Refusals that say "not now" rather than "no": a re-join refused with one is tried again. */
const TRANSIENT = new Set(['rate_limited', 'unavailable', 'internal_error', 'handler_timeout'])
/** Wait before trying a re-join again after a transient refusal (a timeout is retried at once). */
const REJOIN_RETRY_MS = 1000

export class Rooms {
  /** Room → last `seq` seen (undefined until the join's reply gives a baseline). */
  private readonly joined = new Map<string, { lastSeq: number | undefined }>()
  /** Counts connections: a retry belongs to the connection it was scheduled on. */
  private generation = 0

  constructor (private readonly settings: Settings, private readonly requests: Requests, private readonly emit: Emit) {}

  get names (): string[] {
    return [...this.joined.keys()]
  }

  /** An app request is about to go out: returns what to do on its reply, for the room messages. */
  sending (type: string, payload: unknown): ((reply: any) => void) | undefined {
    if (type === ClientMessage.JoinRoom) {
      const since = (payload as { since?: number }).since
      return (reply: RoomJoinedReply) => this.noteJoined(reply, since !== undefined)
    }
    if (type === ClientMessage.LeaveRoom) {
      // Forget it now: a reconnect before the reply must not join the room again.
      this.joined.delete((payload as { room: string }).room)
    }
    return undefined
  }

  /** Every frame from the server: a room delivery moves that room's mark. */
  observe (frame: ServerFrame): void {
    if (frame.room === undefined || frame.seq === undefined) return
    const entry = this.joined.get(frame.room)
    if (entry !== undefined && (entry.lastSeq === undefined || frame.seq > entry.lastSeq)) entry.lastSeq = frame.seq
  }

  /** The connection is (re)established: join every tracked room again, recovering from its mark. */
  rejoinAll (): void {
    this.generation++
    for (const [room, entry] of this.joined) this.rejoin(room, entry.lastSeq)
  }

  private rejoin (room: string, since: number | undefined): void {
    const generation = this.generation
    const payload = since === undefined ? { room } : { room, since }
    const request = this.requests.internal(ClientMessage.JoinRoom, payload, ServerMessage.RoomJoined, this.settings.requestTimeoutMs, (reply: RoomJoinedReply) => {
      this.noteJoined(reply, since !== undefined)
      // Here, not in a `then`: the replayed messages follow the reply, and `ws` may deliver them
      // in the same tick. The app hears of the re-join (and whether it recovered) before them.
      this.emit('rejoined', { room, recovered: reply.recovered === true, seq: reply.seq })
    })
    request.then(undefined, (error: unknown) => {
      const transient = error instanceof RequestTimeoutError || (error instanceof ServerError && TRANSIENT.has(error.code))
      if (transient) {
        // Not assumed joined, not dropped: tried again on this connection (the next one re-joins anyway).
        host.setTimeout(() => {
          const entry = this.joined.get(room)
          if (entry !== undefined && this.generation === generation) this.rejoin(room, entry.lastSeq)
        }, error instanceof RequestTimeoutError ? 0 : REJOIN_RETRY_MS)
      } else if (error instanceof ServerError) {
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
}
