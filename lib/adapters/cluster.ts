/**
 * The shared logic of every multi-instance adapter, written once over the roles a backend fills
 * (`cluster-roles.ts`): a transport, a presence store and a history store.
 *
 * - Fan-out: one channel per room and one per user, subscribed while this instance has a local
 *   member or connection there, so an instance receives only what it delivers. Every instance —
 *   the origin too — delivers a room's frames as they come off the transport, in `seq` order;
 *   frames read in one tick reach the hub as one burst.
 * - Local truth: the memberships this instance holds, re-created in the presence store after an
 *   outage and answered from while the backend is unreachable.
 * - Outage: every call tries the backend once and falls back locally (durable publishes are
 *   refused: they need a `seq`); missed durable frames are fetched from history (`RoomFeeds`).
 */
import type { Adapter, AdapterHost, MembersAfter, PresenceJoin, PresenceLeave, PresenceStateStore, Recovery, RoomDelivery, RoomPublish, StreamPosition } from '../adapter.js'
import { sortedPage } from '../members-page.js'
import { withTimeout } from '../timeout.js'
import { presenceChange, type ClusterBackend, type ClusterEvents, type ClusterTimings, type History, type HistoryFrame, type Membership } from './cluster-roles.js'
import { ClusterHealth, unavailable } from './cluster-health.js'
import { guardedStates } from './cluster-state.js'
import { Liveness } from './cluster-liveness.js'
import { encodeRoomEnvelope, parseRoomEnvelope } from './envelope.js'
import { LocalMembers } from './local-members.js'
import { RoomFeeds } from './room-feeds.js'
import { Subscriptions } from './cluster-subscriptions.js'

export class ClusterAdapter implements Adapter {
  readonly ordersPublishes: boolean
  private host: AdapterHost | undefined
  private readonly local = new LocalMembers()
  /** userId → local connections, for the user channel's reference count. */
  private readonly userConnections = new Map<string, number>()
  /** channel → what it carries; the channels this instance wants to receive. */
  private readonly subscriptions: Subscriptions
  private readonly feeds: RoomFeeds
  /** Room frames ready for delivery in this tick, in order (see `flush`). */
  private inbox: RoomDelivery[] = []
  private readonly health: ClusterHealth
  private liveness: Liveness | undefined
  private closing: Promise<void> | undefined
  readonly presenceState: PresenceStateStore | undefined

  /** `logContext` goes with outage logs (e.g. the backend's URL, without secrets). */
  constructor (protected readonly backend: ClusterBackend, private readonly timings: ClusterTimings, private readonly logContext: object = {}) {
    this.ordersPublishes = backend.ordersPublishes
    this.health = new ClusterHealth(backend.label, logContext)
    this.subscriptions = new Subscriptions(backend.transport, (err) => this.health.error(err))
    this.presenceState = guardedStates(backend.presence.state, { available: () => this.available(), error: (err) => this.health.error(err), label: backend.label })
    this.feeds = new RoomFeeds({
      deliver: (room, data, seq, except) => this.deliver({ room, data, seq, except }),
      history: (room, since, epoch) => this.readHistory(room, since, epoch),
      reset: (room, position) => this.reset(room, position),
      ready: () => this.health.whenUp(() => this.available()),
      available: () => this.available(),
      warn: (obj, msg) => this.host?.log.warn(obj, msg),
    })
  }

  // ── lifecycle ────────────────────────────────────────────────────────────

  async init (host: AdapterHost): Promise<void> {
    this.host = host
    this.health.log = host.log
    const liveness = new Liveness({ backend: this.backend, host, local: this.local, health: this.health, available: () => this.available() }, this.timings)
    this.liveness = liveness
    const events: ClusterEvents = {
      message: (channel, payload) => this.onMessage(channel, payload),
      // The subscriber reconnected, or (Redis Cluster) the topology changed: a shard may have failed over and lost presence.
      subscriberReady: () => {
        this.subscriptions.resubscribe().then(() => this.feeds.catchUp(), (err: unknown) => this.health.error(err))
        void liveness.resync()
      },
      // Catch-ups wait for the resync: a reset notice then lists this instance's members again.
      up: () => { void (this.health.up() ? liveness.afterOutage() : Promise.resolve()).then(() => this.health.wake(true)) },
      down: () => this.health.down(),
      error: (err) => this.health.error(err),
    }
    try {
      await this.backend.connect(host.instanceId, events)
      await liveness.tick()
    } catch (err) {
      // Start anyway: local clients are served and the clients keep reconnecting.
      this.health.down()
      host.log.error({ err, ...this.logContext }, `${this.backend.label} is unreachable at startup: serving local clients only until it answers`)
    }
    liveness.start()
  }

  close (): Promise<void> {
    return (this.closing ??= this.shutDown())
  }

  /** Leave first, then close: departures are published while the backend still takes commands. */
  private async shutDown (): Promise<void> {
    this.liveness?.stop()
    if (this.host !== undefined && this.backend.available) await withTimeout(this.liveness!.leave(), this.timings.closeTimeoutMs)
    if (this.liveness !== undefined) await withTimeout(this.liveness.halt(), this.timings.closeTimeoutMs)
    this.health.close()
    if (this.host !== undefined) await this.backend.close(this.timings.closeTimeoutMs)
  }

  // ── deliveries ───────────────────────────────────────────────────────────

  async publishToRoom (message: RoomPublish): Promise<number | undefined> {
    const { room, frame, durable, except, idempotencyKey } = message
    const { transport, history } = this.backend
    if (durable) {
      if (!this.available()) throw unavailable(this.backend.label)
      try {
        return await history.append(room, transport.roomChannel(room), frame, except, idempotencyKey)
      } catch (err) {
        this.health.error(err)
        throw unavailable(this.backend.label)
      }
    }
    const data = frame.head + frame.tail
    await this.attempt<unknown>(
      () => transport.publish(transport.roomChannel(room), encodeRoomEnvelope(except, data)),
      () => this.host!.deliverToRoom(room, Buffer.from(data), undefined, except),
    )
    return undefined
  }

  async publishToUser (userId: string, data: string): Promise<void> {
    const { transport } = this.backend
    await this.attempt<unknown>(
      () => transport.publish(transport.userChannel(userId), data),
      () => this.host!.deliverToUser(userId, Buffer.from(data)),
    )
  }

  /** Subscribe to the user's channel before the connection is greeted, so nothing sent after is missed. */
  async addConnection (userId: string): Promise<void> {
    this.userConnections.set(userId, (this.userConnections.get(userId) ?? 0) + 1)
    await this.subscriptions.add(this.backend.transport.userChannel(userId), 'user', userId)
  }

  removeConnection (userId: string): void {
    const count = (this.userConnections.get(userId) ?? 0) - 1
    if (count > 0) return void this.userConnections.set(userId, count)
    this.userConnections.delete(userId)
    this.subscriptions.remove(this.backend.transport.userChannel(userId))
  }

  // ── presence ─────────────────────────────────────────────────────────────

  async addMember (room: string, userId: string, connectionId: string): Promise<PresenceJoin> {
    const { firstInRoom, firstForUser } = this.local.add(room, userId, connectionId)
    if (firstInRoom) this.feeds.open(room)
    await this.subscriptions.add(this.backend.transport.roomChannel(room), 'room', room)
    // The connection may have left (or gone) during the subscription's round trip: its removal
    // found nothing to remove in the store yet, so recording it now would leave a phantom member.
    if (!this.local.has(room, userId, connectionId)) return { firstForUser: false }
    const member: Membership = [room, userId, connectionId]
    const { changed, version } = presenceChange(await this.attempt(() => this.backend.presence.add(this.host!.instanceId, member), () => firstForUser))
    return { firstForUser: changed, version }
  }

  async removeMember (room: string, userId: string, connectionId: string): Promise<PresenceLeave> {
    const { removed, lastInRoom, lastForUser } = this.local.remove(room, userId, connectionId)
    if (!removed) return { lastForUser: false }
    if (lastInRoom) {
      this.feeds.close(room)
      this.subscriptions.remove(this.backend.transport.roomChannel(room))
    }
    const member: Membership = [room, userId, connectionId]
    const { changed, version } = presenceChange(await this.attempt(() => this.backend.presence.remove(this.host!.instanceId, member), () => lastForUser))
    return { lastForUser: changed, version }
  }

  /** During an outage (or from a store without `list`): listed and counted apart, with no version. */
  async memberList (room: string, limit: number): Promise<MembersAfter> {
    const { presence } = this.backend
    if (presence.list === undefined) return { members: await this.members(room, limit), count: await this.memberCount(room) }
    return await this.attempt(() => presence.list!(room, limit), () => ({ members: this.local.users(room), count: this.local.users(room).length }))
  }

  async members (room: string, limit?: number): Promise<string[]> {
    return await this.attempt(() => this.backend.presence.members(room, limit), () => this.local.users(room))
  }

  /** During an outage: this instance's members, sorted here. */
  async membersAfter (room: string, after: string | undefined, limit: number): Promise<MembersAfter> {
    return await this.attempt(() => this.backend.presence.page(room, after, limit), () => sortedPage(this.local.users(room), after, limit))
  }

  async memberCount (room: string): Promise<number> {
    return await this.attempt(() => this.backend.presence.count(room), () => this.local.users(room).length)
  }

  // ── seq and history ──────────────────────────────────────────────────────

  async lastSeq (room: string): Promise<number> {
    return (await this.position(room)).seq
  }

  /** During an outage: the last `seq` delivered here, under an epoch no client holds (so nothing is recovered against it). */
  async position (room: string): Promise<StreamPosition> {
    const position = await this.attempt(() => this.backend.history.position(room), () => ({ seq: this.feeds.lastSeq(room) ?? 0, epoch: '' }), false)
    this.feeds.noteEpoch(room, position.epoch)
    return position
  }

  async recover (room: string, since: number, epoch?: string): Promise<Recovery> {
    const history = await this.attempt(() => this.backend.history.read(room, since, epoch), () => undefined, false)
    if (history === undefined || !history.recovered) return { recovered: false, frames: [] }
    return { recovered: true, frames: history.frames.map((frame) => ({ seq: frame.seq, data: frame.data, except: frame.except })) }
  }

  async historyBefore (room: string, before: number, limit: number): Promise<HistoryFrame[]> {
    if (!this.available() || this.backend.history.page === undefined) throw unavailable(this.backend.label, 'history cannot be read')
    return await this.backend.history.page(room, before, limit)
  }

  stats (): Record<string, unknown> {
    return {
      adapter: this.backend.name,
      ...this.backend.stats?.(),
      heartbeatIntervalMs: this.timings.heartbeatIntervalMs,
      instanceTimeoutMs: this.timings.instanceTimeoutMs,
      ...this.health.stats(),
      subscriptions: this.subscriptions.size,
      rooms: this.local.rooms,
      reapedInstances: this.liveness?.reapedInstances ?? 0,
      gapsFilled: this.feeds.gapsFilled,
      streamResets: this.feeds.resets,
    }
  }

  // ── internals ────────────────────────────────────────────────────────────

  /** True when the backend takes commands now; false during an outage or once closing. */
  private available (): boolean {
    return this.backend.available && !this.health.closing
  }

  /**
   * Run `command` on the backend when it is reachable; when it is not, or the command fails (the
   * error is noted), answer `fallback()` from local state. `command` starts synchronously, so
   * calls reach the backend in call order.
   */
  private async attempt<T> (command: () => T | Promise<T>, fallback: () => T, countFallback = true): Promise<T> {
    if (this.available()) {
      try {
        return await command()
      } catch (err) {
        this.health.error(err)
      }
    }
    if (countFallback) this.health.fallbacks++
    return fallback()
  }

  private async readHistory (room: string, since: number, epoch: string | undefined): Promise<History> {
    if (!this.available()) throw new Error(`${this.backend.label} is unreachable`)
    return await this.backend.history.read(room, since, epoch)
  }

  /** A feed restarts a room's stream: frames already queued go out first, then the hub tells the members. */
  private reset (room: string, position: StreamPosition): void {
    if (this.inbox.length > 0) this.flush()
    this.host?.roomReset?.(room, position)
  }

  private onMessage (channel: string, message: Buffer): void {
    const subscription = this.subscriptions.get(channel)
    if (subscription === undefined || this.host === undefined) return
    if (subscription.kind === 'user') {
      this.host.deliverToUser(subscription.name, Buffer.from(message))
      return
    }
    const envelope = parseRoomEnvelope(message)
    if (envelope === undefined) {
      this.host.log.warn({ room: subscription.name }, 'ignored a malformed room frame from the transport')
      return
    }
    this.feeds.receive(subscription.name, envelope)
  }

  /** Queue a room frame for the end of this tick (same macrotask: no added wait). */
  private deliver (frame: RoomDelivery): void { if (this.inbox.push(frame) === 1) process.nextTick(() => this.flush()) }

  /**
   * The frames a transport reads in one chunk arrive within one tick: handed over together, the hub
   * writes each socket's frames of that burst in one syscall. Order is unchanged (FIFO, and a nextTick runs before the promise callbacks of the same tick).
   */
  private flush (): void {
    const frames = this.inbox
    this.inbox = []
    const host = this.host
    if (host === undefined) return
    if (host.deliverBurst !== undefined) host.deliverBurst(frames)
    else for (const f of frames) host.deliverToRoom(f.room, f.data, f.seq, f.except)
  }
}
