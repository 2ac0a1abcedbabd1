/**
 * The seam between the hub (local connections) and whatever makes several instances act as one.
 *
 * The hub owns sockets and the local room index; the adapter owns everything cluster-wide:
 * fan-out, presence, per-room `seq` and history. Methods may answer synchronously (memory) or
 * with a promise (Redis); the hub handles both without paying for a promise when it need not.
 */
import type { RoomFrameParts } from './protocol/stringify.js'

export type MaybePromise<T> = T | Promise<T>

/** Members a delivery skips. Evaluated on every instance against its local connections. */
export interface Exclusions {
  readonly users?: readonly string[]
  readonly connections?: readonly string[]
}

export interface RoomPublish {
  readonly room: string
  readonly frame: RoomFrameParts
  /** Durable deliveries get the room's next `seq` and go into history. */
  readonly durable: boolean
  readonly except: Exclusions | undefined
  /**
   * Makes a durable publish idempotent: repeated with the same key (e.g. retried after an attempt
   * that timed out, which may still have run), it is sequenced and delivered once, and every
   * attempt resolves to the first one's `seq`. Remembered while history keeps the message.
   * Without a key a retried publish is at-least-once. Ignored for non-durable publishes.
   */
  readonly idempotencyKey?: string | undefined
}

export interface PresenceJoin {
  /** True when this is the user's first connection in the room, cluster-wide. */
  readonly firstForUser: boolean
  /**
   * The room's presence version after this change (see `PresenceLeave.version`), when it added the
   * user. Optional: without it `user_joined` carries no version and clients apply it as it comes.
   */
  readonly version?: number | undefined
}

/** What `removeMember` may answer instead of a bare `lastForUser` boolean. */
export interface PresenceLeave {
  /** True when it was the user's last connection in the room, cluster-wide. */
  readonly lastForUser: boolean
  /**
   * The room's presence version after this change, when it removed the user: a number that grows
   * with every change of the room's set of users, taken in the same atomic step as the change.
   * `user_joined`/`user_left` and member lists carry it, so a client drops an announcement older
   * than what it already holds (two instances' announcements may arrive out of order).
   */
  readonly version?: number | undefined
}

/** A page of a room's users: up to `limit` ids after a cursor, in sorted order, and the room's size. */
export interface MembersAfter {
  readonly members: string[]
  readonly count: number
  /** The room's presence version when these were read, in the same atomic read (optional). */
  readonly version?: number | undefined
}

/** A user's merged presence state after a change (see `PresenceStateStore`). */
export interface StateChange {
  /** True when the user's merged state is now different. */
  readonly changed: boolean
  /** The merged state now (its JSON text); undefined when the user has none. */
  readonly state: string | undefined
}

/**
 * Per-connection presence state in rooms, merged per user: a user's state is the one most
 * recently set by any of their connections still in the room. States are JSON text. Removing a
 * member (`removeMember`, an instance reaped) forgets its connection's state too.
 */
export interface PresenceStateStore {
  /** Set a member connection's state. Undefined when the connection is not (or no longer) a member. */
  set(room: string, userId: string, connectionId: string, state: string): MaybePromise<StateChange | undefined>
  /** Forget a connection's state (it is leaving the room): the user's state falls back to their next most recent one. */
  clear(room: string, userId: string, connectionId: string): MaybePromise<StateChange>
  /** The merged states of these users, in order (undefined: none). */
  get(room: string, userIds: readonly string[]): MaybePromise<Array<string | undefined>>
}

/** Where a room's stream of durable messages stands. */
export interface StreamPosition {
  /** The last `seq` given in the room (0 when none). */
  readonly seq: number
  /**
   * Names this numbering of the room: it changes when the numbering restarts (the room's history
   * and counter were forgotten or lost, e.g. a Redis that restarted without its data), so a
   * `since` from an older epoch is never answered with different messages under the same numbers.
   */
  readonly epoch: string
}

export interface Recovery {
  /** True when history held every durable message after `since`. */
  readonly recovered: boolean
  /** The missed frames, oldest first, each with its original `seq` and the exclusions it was sent with. */
  readonly frames: ReadonlyArray<{ readonly seq: number, readonly data: string, readonly except?: Exclusions | undefined }>
}

/** One room frame for `AdapterHost.deliverBurst`: the arguments of `deliverToRoom`. */
export interface RoomDelivery {
  readonly room: string
  readonly data: Buffer
  readonly seq: number | undefined
  readonly except: Exclusions | undefined
}

/** What the hub offers an adapter: local delivery, and presence changes it did not cause. */
export interface AdapterHost {
  /** Stable id of this instance (unique per process). */
  readonly instanceId: string
  /** Deliver an encoded frame to this instance's members of `room`. */
  deliverToRoom(room: string, data: Buffer, seq: number | undefined, except: Exclusions | undefined): void
  /**
   * Deliver several room frames, in order, as one burst (e.g. pub/sub messages read in one chunk):
   * each socket gets its frames of the burst in one write. Optional for hosts; adapters without it
   * call `deliverToRoom` for each.
   */
  deliverBurst?(frames: ReadonlyArray<RoomDelivery>): void
  /**
   * The adapter cannot keep `room`'s stream of durable frames continuous for this instance's
   * members (its numbering restarted, or frames it missed are no longer in history): the host
   * tells each of them (`room_joined` with `recovered: false` and this position), and the room's
   * frames delivered after this call continue from `position.seq` (`epoch` '' when unknown).
   * Optional: without it the members are not told.
   */
  roomReset?(room: string, position: StreamPosition): void
  /** Deliver an encoded frame to this instance's connections of `userId`. */
  deliverToUser(userId: string, data: Buffer): void
  /**
   * A user's presence in a room ended elsewhere (e.g. their instance died): tell local members.
   * `version`: the room's presence version after the departure, when the adapter keeps one.
   */
  userLeft(room: string, userId: string, version?: number): void
  /**
   * A user's presence in a room began again through this instance (a resync after an outage):
   * tell the room under the host's presence rules (big rooms are not told of each arrival).
   * Optional: without it an adapter publishes `user_joined` itself.
   */
  userJoined?(room: string, userId: string, version?: number): void
  /**
   * Several users' presence ended at once, all found by this instance (its own close, or an
   * instance found dead): tell each room under the host's presence rules, in one batch per room
   * (a big room hears one `member_count`, not a `user_left` per user). Resolves once every
   * announcement is published, so an adapter can await it before closing its connection.
   * Optional: without it an adapter announces each departure itself.
   */
  usersLeft?(departures: ReadonlyArray<readonly [room: string, userId: string, version?: number]>): Promise<void>
  /** Log through the app's logger. */
  readonly log: { warn(obj: object, msg: string): void, error(obj: object, msg: string): void, info(obj: object, msg: string): void }
}

export interface Adapter {
  /** Called once when the plugin starts (after `ready`). */
  init(host: AdapterHost): MaybePromise<void>
  /** Called once on `app.close()`. Must not hang. */
  close(): MaybePromise<void>

  /** Deliver to every member of a room on every instance; resolves to the `seq` given, if durable. */
  publishToRoom(message: RoomPublish): MaybePromise<number | undefined>
  /**
   * Deliver to every connection of a user on every instance. `data` is an encoded frame, or a
   * server-side control (first character `!`, see control-message.ts): pass it on unchanged.
   */
  publishToUser(userId: string, data: string): MaybePromise<void>

  /**
   * A connection of `userId` opened on this instance. The hub greets it (`connected`) only once
   * this settles, so user-targeted messages sent after the greeting reach it. Optional.
   */
  addConnection?(userId: string, connectionId: string): MaybePromise<void>
  /** That connection closed (after it left its rooms). Optional. */
  removeConnection?(userId: string, connectionId: string): MaybePromise<void>

  addMember(room: string, userId: string, connectionId: string): MaybePromise<PresenceJoin>
  /**
   * Resolves true when it was the user's last connection in the room, cluster-wide; or a
   * `PresenceLeave`, which can also give the room's presence version.
   */
  removeMember(room: string, userId: string, connectionId: string): MaybePromise<boolean | PresenceLeave>
  /**
   * Distinct user ids in the room, cluster-wide. With `limit`, at most about that many (any of
   * them: a big room's `room_joined` lists only `presence.listLimit`); the hub trims extras.
   */
  members(room: string, limit?: number): MaybePromise<string[]>
  /**
   * Up to `limit` distinct user ids greater than `after` (all when undefined), in sorted order, and
   * how many users the room has: a page of `get_members`. Optional: without it the hub sorts the
   * full `members(room)` for every page.
   */
  membersAfter?(room: string, after: string | undefined, limit: number): MaybePromise<MembersAfter>
  /**
   * Up to about `limit` of the room's users (any of them), how many it has and its presence
   * version, read in one atomic step: what `room_joined` carries. Optional: without it the hub
   * reads `members` and `memberCount` separately (a change between them can make the count
   * disagree with the list) and sends no version.
   */
  memberList?(room: string, limit: number): MaybePromise<MembersAfter>
  /**
   * How many distinct users the room has, cluster-wide, without listing them. Optional: without
   * it the hub counts `members(room)`, which costs a full list per join in a big room.
   */
  memberCount?(room: string): MaybePromise<number>

  /**
   * Presence state of members (`defineProtocol().presence()`). Optional: an app that declares a
   * presence state needs an adapter that has it (the built-in ones do).
   */
  readonly presenceState?: PresenceStateStore | undefined

  /** The last `seq` given in the room (0 when none). */
  lastSeq(room: string): MaybePromise<number>
  /**
   * The room's last `seq` and the epoch of its numbering. Optional: without it the hub uses
   * `lastSeq` and sends no epoch (clients then cannot tell a restarted numbering).
   */
  position?(room: string): MaybePromise<StreamPosition>
  /**
   * Durable messages after `since`, if history still holds all of them. With `epoch` (the one
   * the client saw), not recovered when the room's numbering is no longer that epoch.
   */
  recover(room: string, since: number, epoch?: string): MaybePromise<Recovery>

  /**
   * The newest `limit` durable frames it still keeps with `seq < before`, oldest first (each with
   * its original `seq` and exclusions): older history for the REST history route. Optional; rejects
   * when the history cannot be read right now.
   */
  historyBefore?(room: string, before: number, limit: number): MaybePromise<Recovery['frames']>

  /** Adapter-specific figures for `app.ws.stats()`. */
  stats?(): Record<string, unknown>

  /**
   * True when `publishToRoom` calls take effect in call order even when one starts before the
   * previous one settled (e.g. commands written in order on one connection). The hub then starts
   * a connection's next `message`/`typing` while the previous publish is in flight instead of
   * waiting for its round trip; replies still leave in frame order. Optional.
   * @default false (one publish of a connection at a time)
   */
  readonly ordersPublishes?: boolean
}

export function isPromise<T> (value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
