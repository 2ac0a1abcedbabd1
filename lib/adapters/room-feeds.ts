/**
 * Per-room ordering of frames received from a cluster transport.
 *
 * The backend publishes a room's durable frames in `seq` order, but pub/sub is at-most-once: frames
 * published while this instance's subscriber was reconnecting are lost. A feed remembers the last
 * `seq` it delivered; on a gap (or after a reconnect) it fetches the missing frames from history
 * and holds newer frames meanwhile, so local members still see every durable frame in order.
 */
import type { History } from './cluster-roles.js'
import type { RoomEnvelope } from './envelope.js'

export interface FeedSink {
  deliver(room: string, data: Buffer, seq: number | undefined, except: RoomEnvelope['except']): void
  history(room: string, since: number): Promise<History>
  warn(obj: object, msg: string): void
}

interface Feed {
  /** Last durable `seq` delivered; undefined until the first one arrives. */
  last: number | undefined
  /** Frames that arrived while history is being fetched, in arrival order. */
  held: RoomEnvelope[] | undefined
  /** `seq`s a catch-up delivered from history whose pub/sub copy may still arrive (pub/sub runs behind the store). */
  filled: Set<number> | undefined
}

export class RoomFeeds {
  private readonly feeds = new Map<string, Feed>()
  /** Gaps filled from history (frames that pub/sub did not bring). */
  gapsFilled = 0

  constructor (private readonly sink: FeedSink) {}

  open (room: string): void {
    if (!this.feeds.has(room)) this.feeds.set(room, { last: undefined, held: undefined, filled: undefined })
  }

  close (room: string): void {
    this.feeds.delete(room)
  }

  /** The last `seq` delivered in `room`, if known (used while the backend is unreachable). */
  lastSeq (room: string): number | undefined {
    return this.feeds.get(room)?.last
  }

  receive (room: string, envelope: RoomEnvelope): void {
    const feed = this.feeds.get(room)
    if (feed === undefined) return
    if (feed.held !== undefined) {
      feed.held.push(envelope)
      return
    }
    const seq = envelope.seq
    if (seq !== undefined && feed.filled !== undefined) {
      // The late pub/sub copy of a frame the catch-up already delivered: not again.
      if (feed.filled.delete(seq)) return
      if (feed.last !== undefined && seq > feed.last) feed.filled = undefined
    }
    if (seq !== undefined && feed.last !== undefined && seq > feed.last + 1) {
      feed.held = [envelope]
      void this.fill(room, feed)
      return
    }
    // seq ≤ last cannot be a pub/sub duplicate (pub/sub never repeats): the room's sequence
    // restarted (its keys expired or the backend lost its data), so follow it.
    if (seq !== undefined) feed.last = seq
    this.sink.deliver(room, envelope.data, seq, envelope.except)
  }

  /** After the subscriber reconnected: fetch what every open feed missed meanwhile. */
  catchUp (): void {
    for (const [room, feed] of this.feeds) {
      if (feed.last === undefined || feed.held !== undefined) continue
      feed.held = []
      void this.fill(room, feed)
    }
  }

  private async fill (room: string, feed: Feed): Promise<void> {
    const since = feed.last!
    try {
      const history = await this.sink.history(room, since)
      if (this.feeds.get(room) !== feed) return
      if (history.last < since) {
        feed.last = history.last
      } else if (history.recovered) {
        for (const frame of history.frames) {
          if (frame.seq <= feed.last!) continue
          feed.last = frame.seq
          ;(feed.filled ??= new Set()).add(frame.seq)
          this.gapsFilled++
          this.sink.deliver(room, Buffer.from(frame.data), frame.seq, frame.except)
        }
      } else {
        this.sink.warn({ room, since, last: history.last }, 'frames missed by pub/sub are no longer in history: members see a seq gap')
      }
    } catch (err) {
      this.sink.warn({ err, room }, 'could not fetch frames missed by pub/sub')
    }
    if (this.feeds.get(room) !== feed) return
    const held = feed.held ?? []
    feed.held = undefined
    for (const envelope of held) {
      const seq = envelope.seq
      if (seq !== undefined) {
        if (feed.last !== undefined && seq <= feed.last) continue
        feed.last = seq
      }
      this.sink.deliver(room, envelope.data, seq, envelope.except)
    }
  }
}
