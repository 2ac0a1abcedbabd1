/**
 * The roles a cluster engine fills for `ClusterAdapter`, which holds the shared logic once (local
 * membership, subscriptions, ordering and gap filling, outage fallbacks, heartbeat, reaping,
 * resync). A new engine (NATS, PostgreSQL…) writes a `ClusterBackend`: a transport, a presence
 * store and a history store, plus its connection's health (see README "Writing an adapter").
 *
 * Every method may answer synchronously or with a promise; a rejection counts as the backend
 * being unreachable for that call (the adapter falls back to local delivery where it can).
 *
 * Where planned work plugs in, so it stays inside one role: sharded pub/sub on Redis Cluster lives
 * inside the Redis transport (channel names come only from `Transport.roomChannel`/`userChannel`).
 */
import type { Exclusions, MaybePromise, MembersAfter, PresenceStateStore, StreamPosition } from '../adapter.js'
import type { RoomFrameParts } from '../protocol/stringify.js'

/** Pub/sub: bytes on named channels, delivered to every instance subscribed to the channel. */
export interface Transport {
  /** Channel of a room's frames (payload: a room envelope, see `envelope.ts`). */
  roomChannel(room: string): string
  /** Channel of a user's frames (payload: the encoded frame). */
  userChannel(userId: string): string
  /**
   * Send `payload` to every subscriber of `channel`. Publishes of one instance must reach each
   * subscriber in call order (and after durable appends issued before them, if `ordersPublishes`).
   */
  publish(channel: string, payload: string): MaybePromise<unknown>
  /**
   * Start receiving `channels` (through `ClusterEvents.message`). Settles once they are live.
   * While disconnected it may resolve at once: the adapter subscribes again on `subscriberReady`.
   */
  subscribe(channels: readonly string[]): MaybePromise<void>
  unsubscribe(channel: string): MaybePromise<void>
}

/** One connection in one room, as an instance holds it. */
export type Membership = readonly [room: string, userId: string, connectionId: string]

/** A user who left a room, and the room's presence version after it (when the store keeps one). */
export type Departure = readonly [room: string, userId: string, version?: number]

/** A store's answer to `add`/`remove` (true, or the version, when the user arrived/left): did they, and at which version. */
export function presenceChange (answer: boolean | number): { changed: boolean, version: number | undefined } {
  return typeof answer === 'number' ? { changed: answer > 0, version: answer > 0 ? answer : undefined } : { changed: answer, version: undefined }
}

/** Cluster-wide presence, and which instance holds which membership (so survivors can clean up). */
export interface PresenceStore {
  /**
   * Record the membership for `instanceId`. True when it is the user's first connection in the
   * room, or instead the room's presence version after it (> 0, see `PresenceLeave.version`).
   */
  add(instanceId: string, member: Membership): MaybePromise<boolean | number>
  /** Forget it. True (or the room's presence version after it, > 0) when it was the user's last connection in the room. */
  remove(instanceId: string, member: Membership): MaybePromise<boolean | number>
  /**
   * Record several memberships of `instanceId` at once (a resync after an outage): one entry per
   * member, true when it was that user's first connection in its room. Batched, so thousands cost
   * a few round trips.
   */
  addMany(instanceId: string, members: readonly Membership[]): MaybePromise<Array<boolean | number>>
  /** Forget several memberships at once: one entry per member, as `remove`. */
  removeMany(instanceId: string, members: readonly Membership[]): MaybePromise<Array<boolean | number>>
  /** Distinct users of the room; with `limit`, at most about that many (any of them). */
  members(room: string, limit?: number): MaybePromise<string[]>
  /** Up to `limit` user ids after `after` in sorted order, and the room's size (a `get_members` page). */
  page(room: string, after: string | undefined, limit: number): MaybePromise<MembersAfter>
  /** Up to about `limit` users (any), the count and the presence version, in one atomic read. Optional. */
  list?(room: string, limit: number): MaybePromise<MembersAfter>
  /** How many distinct users the room has (without listing them: asked on every join). */
  count(room: string): MaybePromise<number>
  /** The memberships recorded for `instanceId`. */
  held(instanceId: string): MaybePromise<Membership[]>
  /**
   * Remove every membership of `instanceId` (claimed dead, or closing), in batches, calling
   * `onLeft` with the (room, user) pairs whose user thereby left a room as each batch completes.
   * A membership stays recorded for `instanceId` until it is removed from its room, so a removal
   * cut short (timeout, crash) can be finished later by whoever claims the instance.
   */
  removeInstance(instanceId: string, onLeft: (left: Departure[]) => void): MaybePromise<void>
  /** Liveness beat. True when the instance was not registered (first beat, or it was reaped). */
  beat(instanceId: string): MaybePromise<boolean>
  /**
   * Claim up to `limit` instances silent for `timeoutMs`, never `self`: each dead instance is
   * claimed by exactly one survivor, which then calls `removeInstance`. A claim whose survivor
   * went silent too (it died mid-reap) may be claimed again, so no dead instance is left behind.
   */
  claimDead(timeoutMs: number, limit: number, self: string): MaybePromise<string[]>
  /** Unregister a closing instance's liveness (after its memberships are removed). */
  unregister(instanceId: string): MaybePromise<void>
  /**
   * Members' presence states (see `PresenceStateStore`); `remove`, `removeMany` and
   * `removeInstance` forget a removed connection's state too. Optional: without it the adapter
   * has no presence state.
   */
  readonly state?: PresenceStateStore
}

export interface HistoryFrame { readonly seq: number, readonly data: string, readonly except: Exclusions | undefined }

export interface History {
  /** True when every durable frame after `since` was still kept (then `frames` holds them, oldest first). */
  readonly recovered: boolean
  /** The room's last `seq`. */
  readonly last: number
  /** The epoch of the room's numbering (see `StreamPosition`). */
  readonly epoch: string
  readonly frames: readonly HistoryFrame[]
}

/** Per-room `seq` and the recent durable frames. */
export interface HistoryStore {
  /**
   * Give the frame the room's next `seq`, keep it, and publish its envelope
   * (`encodeDurableEnvelope`) on `channel` — as one step, so every subscriber receives a room's
   * durable frames in `seq` order and history has no hole. Resolves to the `seq`. With an
   * `idempotencyKey` already used in the room (while history keeps it), nothing is appended and
   * it resolves to that append's `seq` — checked in the same step, so a retry never duplicates.
   */
  append(room: string, channel: string, frame: RoomFrameParts, except: Exclusions | undefined, idempotencyKey?: string): MaybePromise<number>
  /**
   * The room's last `seq` (0 when none) and the epoch of its numbering, created on first use
   * and replaced whenever the numbering restarts (the store forgot or lost the room's counter).
   */
  position(room: string): MaybePromise<StreamPosition>
  /** Durable frames after `since`, if all are still kept (and, with `epoch`, the numbering is still that one). */
  read(room: string, since: number, epoch?: string): MaybePromise<History>
  /**
   * The newest `limit` kept durable frames with `seq < before`, oldest first: a page of older
   * history (the REST history route). Optional: without it the adapter has no history to page.
   */
  page?(room: string, before: number, limit: number): MaybePromise<HistoryFrame[]>
}

/** What a backend reports to the adapter. */
export interface ClusterEvents {
  /** A frame arrived on a subscribed channel. The buffer may be reused after the call. */
  message(channel: string, payload: Buffer): void
  /** The subscriber (re)connected: subscribe to every wanted channel again; frames may have been missed. */
  subscriberReady(): void
  /** The backend became reachable (again). */
  up(): void
  /** The backend became unreachable. */
  down(): void
  /** A backend error, for logs and stats. */
  error(err: unknown): void
}

/** A cluster engine: the roles, and its connection. */
export interface ClusterBackend {
  /** Name for logs and `stats().adapter.adapter` (e.g. 'redis'). */
  readonly name: string
  /** Shown in logs and errors: 'Redis is unreachable…'. */
  readonly label: string
  readonly transport: Transport
  readonly presence: PresenceStore
  readonly history: HistoryStore
  /**
   * True when `history.append` and `transport.publish` take effect in call order even when one
   * starts before the previous settled (e.g. written in order on one connection).
   */
  readonly ordersPublishes: boolean
  /** True when commands can be sent now (false during an outage). */
  readonly available: boolean
  /** Connect. Rejects when unreachable at startup: the adapter then starts degraded and waits for `up`. */
  connect(instanceId: string, events: ClusterEvents): Promise<void>
  /** Disconnect (after the adapter removed its presence) within about `timeoutMs`. */
  close(timeoutMs: number): Promise<void>
  /** Engine-specific figures merged into `stats()`. */
  stats?(): Record<string, unknown>
}

/** Timings of the shared liveness logic. */
export interface ClusterTimings {
  readonly heartbeatIntervalMs: number
  readonly instanceTimeoutMs: number
  readonly closeTimeoutMs: number
}
