/**
 * Per-room ordering of frames received from a cluster transport.
 *
 * The backend publishes a room's durable frames in `seq` order, but pub/sub is at-most-once: frames
 * published while this instance's subscriber was reconnecting are lost. A feed remembers the last
 * `seq` it delivered and the epoch of that numbering; on a gap (or after a reconnect) it holds
 * newer frames, waits until the backend takes commands, and fetches the missing frames from
 * history — under the same epoch only. When it cannot (the numbering restarted: the backend lost
 * its data; history no longer holds them; the read failed) it never delivers past the gap: it
 * announces a reset (`FeedSink.reset`: the new baseline and epoch, the members are told
 * `recovered: false`), then the frames after the baseline follow in order.
 */
import type { StreamPosition } from '../adapter.js'
import type { History } from './cluster-roles.js'
import type { RoomEnvelope } from './envelope.js'

export interface FeedSink {
  deliver(room: string, data: Buffer, seq: number | undefined, except: RoomEnvelope['except']): void
  /** Durable frames after `since`; with `epoch`, not recovered unless the numbering is still that one. */
  history(room: string, since: number, epoch: string | undefined): Promise<History>
  /** The room's stream restarts here at `position` (`epoch` '' when unknown): tell the local members. */
  reset(room: string, position: StreamPosition): void
  /** Resolves true once the backend takes commands (at once when it does); false when closing. */
  ready(): Promise<boolean>
  /** True when the backend takes commands now. */
  available(): boolean
  warn(obj: object, msg: string): void
}

interface Feed {
  /** Last durable `seq` delivered; undefined until the first one arrives. */
  last: number | undefined
  /** The epoch of the numbering `last` counts in; undefined until learned (a join's position, a history read). */
  epoch: string | undefined
  /** Frames that arrived while history is being fetched, in arrival order. */
  held: RoomEnvelope[] | undefined
  /** `seq`s a catch-up delivered from history whose pub/sub copy may still arrive (pub/sub runs behind the store). */
  filled: Set<number> | undefined
  /** After a reset to the store's last `seq`: pub/sub copies up to it may still arrive, and are not delivered. */
  lateUpTo: number | undefined
}

export class RoomFeeds {
  private readonly feeds = new Map<string, Feed>()
  /** Gaps filled from history (frames that pub/sub did not bring). */
  gapsFilled = 0
  /** Resets announced: the stream could not be kept continuous (numbering restarted, or a gap not filled). */
  resets = 0

  constructor (private readonly sink: FeedSink) {}

  open (room: string): void {
    if (!this.feeds.has(room)) this.feeds.set(room, { last: undefined, epoch: undefined, held: undefined, filled: undefined, lateUpTo: undefined })
  }

  close (room: string): void {
    this.feeds.delete(room)
  }

  /** The last `seq` delivered in `room`, if known (used while the backend is unreachable). */
  lastSeq (room: string): number | undefined {
    return this.feeds.get(room)?.last
  }

  /** The room's epoch as a join read it: the feed's numbering, unless it already knows one. */
  noteEpoch (room: string, epoch: string): void {
    const feed = this.feeds.get(room)
    if (feed !== undefined && feed.epoch === undefined && epoch !== '') feed.epoch = epoch
  }

  receive (room: string, envelope: RoomEnvelope): void {
    const feed = this.feeds.get(room)
    if (feed === undefined) return
    if (feed.held !== undefined) {
      feed.held.push(envelope)
      return
    }
    const seq = envelope.seq
    if (seq !== undefined && feed.last !== undefined) {
      if (seq <= feed.last && this.late(feed, seq)) return
      if (seq > feed.last) feed.filled = feed.lateUpTo = undefined
      if (seq !== feed.last + 1) {
        // A gap, or (seq ≤ last: pub/sub never repeats) the room's numbering restarted.
        feed.held = [envelope]
        void this.fill(room, feed, seq <= feed.last)
        return
      }
    }
    if (seq !== undefined) feed.last = seq
    this.sink.deliver(room, envelope.data, seq, envelope.except)
  }

  /** After the subscriber reconnected: fetch what every open feed missed meanwhile. */
  catchUp (): void {
    for (const [room, feed] of this.feeds) {
      if (feed.last === undefined || feed.held !== undefined) continue
      feed.held = []
      void this.fill(room, feed, false)
    }
  }

  /** The late pub/sub copy of a frame already delivered from history, or skipped by a reset. */
  private late (feed: Feed, seq: number): boolean {
    if (feed.filled?.delete(seq) === true) return true
    return feed.lateUpTo !== undefined && seq <= feed.lateUpTo
  }

  private async fill (room: string, feed: Feed, restarted: boolean): Promise<void> {
    const since = feed.last!
    let history: History | undefined
    for (;;) {
      // The subscriber may be back before the command connection: wait for the backend to be up.
      if (!(await this.sink.ready()) || this.feeds.get(room) !== feed) return
      try {
        history = await this.sink.history(room, since, restarted ? undefined : feed.epoch)
        break
      } catch (err) {
        this.sink.warn({ err, room }, 'could not fetch frames missed by pub/sub')
        // Failed while connected (e.g. timed out): announced below rather than tried in a loop.
        if (this.sink.available()) break
      }
    }
    if (this.feeds.get(room) !== feed) return
    if (!restarted && history !== undefined && history.recovered && feed.epoch !== undefined && history.epoch === feed.epoch) {
      for (const frame of history.frames) {
        if (frame.seq <= feed.last!) continue
        feed.last = frame.seq
        ;(feed.filled ??= new Set()).add(frame.seq)
        this.gapsFilled++
        this.sink.deliver(room, Buffer.from(frame.data), frame.seq, frame.except)
      }
    } else {
      this.reset(room, feed, history, restarted)
    }
    this.release(room, feed)
  }

  /**
   * The stream cannot continue from `last` here: restart it at a baseline every later frame follows.
   * The first frame held arrived after the (re)subscription, so every newer one comes too: the
   * baseline is just before it. With none held, the store's last `seq` (copies up to it may still come).
   */
  private reset (room: string, feed: Feed, history: History | undefined, restarted: boolean): void {
    const first = feed.held?.find((envelope) => envelope.seq !== undefined)?.seq
    const seq = first !== undefined ? first - 1 : history?.last ?? feed.last!
    if (first === undefined && history !== undefined) feed.lateUpTo = history.last
    feed.last = seq
    feed.filled = undefined
    // Unread (the read failed): a restarted numbering's epoch is unknown; otherwise it stays.
    feed.epoch = history?.epoch ?? (restarted ? undefined : feed.epoch)
    this.resets++
    this.sink.warn({ room, seq, epoch: feed.epoch }, 'a room\'s stream could not be continued here (numbering restarted, or missed frames not recoverable): members are told recovered: false')
    this.sink.reset(room, { seq, epoch: feed.epoch ?? '' })
  }

  /** Deliver what was held meanwhile, in order; a gap among them starts another catch-up. */
  private release (room: string, feed: Feed): void {
    const held = feed.held ?? []
    feed.held = undefined
    for (const [index, envelope] of held.entries()) {
      const seq = envelope.seq
      if (seq !== undefined) {
        if (seq <= feed.last!) {
          if (this.late(feed, seq)) continue
          feed.held = held.slice(index)
          void this.fill(room, feed, true)
          return
        }
        if (seq > feed.last! + 1) {
          feed.held = held.slice(index)
          void this.fill(room, feed, false)
          return
        }
        feed.last = seq
      }
      this.sink.deliver(room, envelope.data, seq, envelope.except)
    }
  }
}
