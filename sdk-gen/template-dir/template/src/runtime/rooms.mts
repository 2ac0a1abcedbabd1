/**
 * Rooms and recovery. The client tracks the rooms joined through it, with the last `seq` seen in
 * each and the `epoch` of that numbering, and joins them again after every reconnect with `since`
 * and `epoch`, so the server replays what was missed — or answers `recovered: false` when the
 * room's numbering restarted meanwhile (the same numbers would be other messages). A room enters the set on a `room_joined` reply and leaves it on `leave_room` or a refused
 * re-join; every frame with a room and a seq moves that room's mark. Membership changes the server
 * makes on its own arrive as frames (`observe`): `room_added` enters the room in the set like a
 * join's reply, `room_removed` takes it out (it is not joined again). The presence state this
 * client last set in a room (`set_presence`, acknowledged) is set again after each re-join: the
 * server forgets a connection's state when the connection goes. A `room_joined` without `id` and
 * with `recovered: false` for a tracked room is the server restarting its stream under this
 * connection (`rejoined` with `recovered: false`): its `seq` and `epoch` are the new baseline.
 */
import { host } from './env.mjs'
import { RequestTimeoutError, ServerError } from './errors.mjs'
import type { Emit, Settings } from './options.mjs'
import { ClientMessage, PresenceMessage, ServerMessage, type ServerFrame } from './protocol/index.js'
import type { Requests } from './requests.mjs'

interface RoomJoinedReply { room: string, seq: number, epoch?: string, recovered?: boolean }

/** Refusals that say "not now" rather than "no": a re-join refused with one is tried again. */
const TRANSIENT = new Set(['rate_limited', 'unavailable', 'internal_error', 'handler_timeout'])
/** Wait before trying a re-join again after a transient refusal (a timeout is retried at once). */
const REJOIN_RETRY_MS = 1000

export class Rooms {
  /** Room → last `seq` seen (undefined until the join's reply gives a baseline), and its numbering's epoch. */
  private readonly joined = new Map<string, { lastSeq: number | undefined, epoch: string | undefined }>()
  /** Room → the presence state this client last set there (re-applied after a re-join). */
  private readonly states = new Map<string, unknown>()
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
      this.forget((payload as { room: string }).room)
    }
    if (type === PresenceMessage.SetPresence) {
      const { room, state } = payload as { room: string, state: unknown }
      return () => { if (this.joined.has(room)) this.states.set(room, state) }
    }
    return undefined
  }

  /** Every frame from the server: a room delivery moves that room's mark; the server's own membership changes. */
  observe (frame: ServerFrame): void {
    // A join the server made for this connection: `room_added`, or a `room_joined` that answers no
    // request of ours (the app's `ctx.join`). Tracked like our own joins.
    if (frame.type === ServerMessage.RoomAdded || (frame.type === ServerMessage.RoomJoined && frame.id === undefined)) {
      const reply = frame.payload as RoomJoinedReply
      const reset = frame.type === ServerMessage.RoomJoined && reply.recovered === false && this.joined.has(reply.room)
      this.noteJoined(reply, false)
      // The server restarted the room's stream under this connection: messages may be lost; the new baseline counts from here.
      if (reset) this.emit('rejoined', { room: reply.room, recovered: false, seq: reply.seq })
      return
    }
    // A leave the app made for this connection (`ctx.leave`): not joined again.
    if (frame.type === ServerMessage.RoomLeft && frame.id === undefined) {
      this.forget((frame.payload as { room: string }).room)
      return
    }
    if (frame.type === ServerMessage.RoomRemoved) {
      this.forget((frame.payload as { room: string }).room)
      return
    }
    if (frame.room === undefined || frame.seq === undefined) return
    const entry = this.joined.get(frame.room)
    if (entry !== undefined && (entry.lastSeq === undefined || frame.seq > entry.lastSeq)) entry.lastSeq = frame.seq
  }

  /** The connection is (re)established: join every tracked room again, recovering from its mark. */
  rejoinAll (): void {
    this.generation++
    for (const [room, entry] of this.joined) this.rejoin(room, entry.lastSeq, entry.epoch)
  }

  private rejoin (room: string, since: number | undefined, epoch: string | undefined): void {
    const generation = this.generation
    const payload = since === undefined ? { room } : epoch === undefined ? { room, since } : { room, since, epoch }
    const request = this.requests.internal(ClientMessage.JoinRoom, payload, ServerMessage.RoomJoined, this.settings.requestTimeoutMs, (reply: RoomJoinedReply) => {
      this.noteJoined(reply, since !== undefined)
      // Here, not in a `then`: the replayed messages follow the reply, and `ws` may deliver them
      // in the same tick. The app hears of the re-join (and whether it recovered) before them.
      this.emit('rejoined', { room, recovered: reply.recovered === true, seq: reply.seq })
      this.reapplyState(room)
    })
    request.then(undefined, (error: unknown) => {
      const transient = error instanceof RequestTimeoutError || (error instanceof ServerError && TRANSIENT.has(error.code))
      if (transient) {
        // Not assumed joined, not dropped: tried again on this connection (the next one re-joins anyway).
        host.setTimeout(() => {
          const entry = this.joined.get(room)
          if (entry !== undefined && this.generation === generation) this.rejoin(room, entry.lastSeq, entry.epoch)
        }, error instanceof RequestTimeoutError ? 0 : REJOIN_RETRY_MS)
      } else if (error instanceof ServerError) {
        this.forget(room)
        this.emit('rejoinFailed', { room, error })
      }
      // Otherwise the connection dropped again: the next one re-joins.
    })
  }

  private forget (room: string): void {
    this.joined.delete(room)
    this.states.delete(room)
  }

  /** Set this client's last state in a re-joined room again (a failure waits for the next re-join). */
  private reapplyState (room: string): void {
    if (!this.states.has(room)) return
    const payload = { room, state: this.states.get(room) }
    this.requests.internal(PresenceMessage.SetPresence, payload, ServerMessage.Ack, this.settings.requestTimeoutMs).then(undefined, () => {})
  }

  /** Track a joined room; the reply's `seq` is the baseline unless recovered messages follow it. */
  private noteJoined (reply: RoomJoinedReply, recovering: boolean): void {
    let entry = this.joined.get(reply.room)
    if (entry === undefined) this.joined.set(reply.room, entry = { lastSeq: undefined, epoch: undefined })
    // Not recovered (e.g. a restarted server whose seq starts over): the new baseline is the reply's seq.
    if (!recovering || reply.recovered !== true || entry.lastSeq === undefined) entry.lastSeq = reply.seq
    entry.epoch = reply.epoch
  }
}
