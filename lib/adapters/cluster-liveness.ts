/**
 * Liveness of a cluster adapter: the heartbeat, reaping instances that stopped beating (their
 * users leave), re-registering this instance's memberships after an outage, and leaving on close.
 * Written once over `PresenceStore`, for every backend. Departures found in bulk (a dead
 * instance's, or this one's own on close) go to the host in one batch (`AdapterHost.usersLeft`),
 * which applies its presence rules: a big room hears one `member_count`, not a `user_left` each.
 */
import type { AdapterHost } from '../adapter.js'
import { presenceChange, type ClusterBackend, type ClusterTimings, type Departure, type Membership } from './cluster-roles.js'
import type { ClusterHealth } from './cluster-health.js'
import type { LocalMembers } from './local-members.js'
import { ServerMessage } from '../protocol/names.js'
import { roomFrameParts } from '../protocol/stringify.js'
import { encodeRoomEnvelope } from './envelope.js'

/** Dead instances claimed per heartbeat. */
const REAP_BATCH = 10

type Departures = Departure[]

export interface LivenessContext {
  readonly backend: ClusterBackend
  readonly host: AdapterHost
  readonly local: LocalMembers
  readonly health: ClusterHealth
  /** True when the backend takes commands now (and the adapter is not closing). */
  available(): boolean
}

export class Liveness {
  reapedInstances = 0
  private timer: NodeJS.Timeout | undefined
  private beating = false
  private registered = false
  private reapNotBefore = 0
  /** The last beat failed: others' beats probably did too (e.g. a failover of the liveness shard). */
  private beatFailed = false
  private reaping: Promise<void> | undefined
  private resyncing: Promise<void> | undefined
  private resyncAgain = false
  /** Set by `stop()` (the adapter is closing): no reap or resync starts after it; beats go on until `halt()`. */
  private stopped = false
  private beat: Promise<unknown> | undefined

  constructor (private readonly cluster: LivenessContext, private readonly timings: ClusterTimings) {}

  start (): void {
    this.timer = setInterval(() => { void this.tick() }, this.timings.heartbeatIntervalMs)
    this.timer.unref()
  }

  /** Closing: no reap or resync from now on. The heartbeat goes on while `leave()` works, so no survivor reaps this instance meanwhile. */
  stop (): void {
    this.stopped = true
  }

  /** No more beats; resolves once one in flight has landed. */
  async halt (): Promise<void> {
    clearInterval(this.timer)
    await this.beat?.catch(() => {})
  }

  /** The backend takes commands and this instance is not leaving. */
  private running (): boolean {
    return !this.stopped && this.cluster.available()
  }

  /** The backend is back: everyone's heartbeat stalled meanwhile, so give instances time to beat before reaping. */
  afterOutage (): Promise<void> {
    this.reapNotBefore = Date.now() + this.timings.instanceTimeoutMs
    void this.tick()
    return this.resync()
  }

  /**
   * Heartbeat; then start a reap of dead instances in the background. Only the beat is awaited:
   * reaping and resync run beside the timer, so however long they take this instance keeps
   * beating and no survivor presumes it dead. Never overlaps itself; never throws.
   */
  async tick (): Promise<void> {
    const { backend, host, health } = this.cluster
    if (!this.cluster.available() || this.beating) return
    this.beating = true
    try {
      const beat = Promise.resolve(backend.presence.beat(host.instanceId))
      this.beat = beat
      const added = await beat
      if (this.beatFailed) {
        // Beats could not land for a while, here and likely everywhere: let every instance beat again before reaping.
        this.beatFailed = false
        this.reapNotBefore = Date.now() + this.timings.instanceTimeoutMs
      }
      if (added && this.registered && !this.stopped) {
        host.log.warn({ instanceId: host.instanceId }, 'other instances presumed this one dead (late heartbeat): re-registering its presence')
        void this.resync()
      }
      this.registered = true
    } catch (err) {
      this.beatFailed = true
      health.error(err)
      return
    } finally {
      this.beating = false
    }
    if (Date.now() >= this.reapNotBefore && this.reaping === undefined && !this.stopped) {
      this.reaping = this.reap().catch((err: unknown) => health.error(err)).finally(() => { this.reaping = undefined })
    }
  }

  /**
   * On close (after `stop()`, before the backend closes): whatever the hub did not remove
   * (bounded shutdown) leaves now, announced in one batch and published before this resolves;
   * then unregister. Cut short by the close timeout, the instance is still registered, its
   * heartbeat goes stale and a survivor reaps what is left.
   */
  async leave (): Promise<void> {
    const { backend: { presence }, host } = this.cluster
    const left: Departures = []
    try {
      try {
        await presence.removeInstance(host.instanceId, (batch) => { left.push(...batch) })
      } finally {
        await this.announceLeft(left, true)
      }
      // Unregistered last, once no beat can register it again.
      await this.halt()
      await presence.unregister(host.instanceId)
    } catch (err) {
      host.log.warn({ err }, `could not remove this instance's presence from ${this.cluster.backend.label} on close: survivors will reap it`)
    }
  }

  private async reap (): Promise<void> {
    const { backend: { presence }, host } = this.cluster
    while (this.running()) {
      const dead = await presence.claimDead(this.timings.instanceTimeoutMs, REAP_BATCH, host.instanceId)
      for (const instanceId of dead) {
        const left: Departures = []
        try {
          await presence.removeInstance(instanceId, (batch) => { left.push(...batch) })
        } finally {
          // Whatever was removed, even if the rest failed: one batch for the whole instance.
          await this.announceLeft(left, false)
        }
        this.reapedInstances++
        host.log.warn({ instanceId, usersLeft: left.length }, 'removed the presence of a dead instance')
      }
      if (dead.length < REAP_BATCH) return
    }
  }

  /**
   * Tell the rooms who left: through the host's batch (its presence rules) when it has one;
   * else one `user_left` each — on close published directly (awaited), else through `userLeft`.
   */
  private async announceLeft (left: Departures, closing: boolean): Promise<void> {
    const { host, health } = this.cluster
    if (left.length === 0) return
    try {
      if (host.usersLeft !== undefined) await host.usersLeft(left)
      else if (closing) await Promise.all(left.map(([room, userId]) => this.announce(room, ServerMessage.UserLeft, userId)))
      else for (const [room, userId, version] of left) host.userLeft(room, userId, version)
    } catch (err) {
      health.error(err)
    }
  }

  /**
   * Make the presence store hold exactly this instance's local memberships: remove records it no
   * longer has (announcing `user_left`), and record every local one again (announcing
   * `user_joined` for users it lacked). Every local membership, not only those missing from this
   * instance's records: on Redis Cluster one shard may lose its data (a failover to a replica
   * that was behind) while the records, on another shard, survive.
   */
  resync (): Promise<void> {
    if (this.resyncing !== undefined) {
      this.resyncAgain = true
      return this.resyncing
    }
    const run = async (): Promise<void> => {
      do {
        this.resyncAgain = false
        if (!this.running()) return
        try {
          await this.resyncOnce()
        } catch (err) {
          this.cluster.health.error(err)
          return
        }
      } while (this.resyncAgain)
    }
    this.resyncing = run().finally(() => { this.resyncing = undefined })
    return this.resyncing
  }

  /** In batches: thousands of memberships cost a few round trips, not one each. */
  private async resyncOnce (): Promise<void> {
    const { backend: { presence }, host, local } = this.cluster
    const self = host.instanceId
    const remote = await presence.held(self)
    const stale = remote.filter((member) => !local.has(...member))
    const last = await presence.removeMany(self, stale)
    this.announceGone(stale, last)
    const missing = [...local.entries()]
    const first = await presence.addMany(self, missing)
    for (const [n, [room, userId]] of missing.entries()) {
      const { changed, version } = presenceChange(first[n]!)
      if (!changed) continue
      // Through the host's presence rules when it has them (a big room hears no arrival).
      if (host.userJoined !== undefined) host.userJoined(room, userId, version)
      else this.announce(room, ServerMessage.UserJoined, userId).catch((err: unknown) => this.cluster.health.error(err))
    }
    // Connections that left while the batch was on its way: their removal found nothing to remove.
    const gone = missing.filter((member) => !local.has(...member))
    this.announceGone(gone, await presence.removeMany(self, gone))
  }

  /** `userLeft` for each of `members` whose removal (`answers`, from `removeMany`) was its user's last in the room. */
  private announceGone (members: readonly Membership[], answers: ReadonlyArray<boolean | number>): void {
    for (const [n, [room, userId]] of members.entries()) {
      const { changed, version } = presenceChange(answers[n]!)
      if (changed) this.cluster.host.userLeft(room, userId, version)
    }
  }

  /** Tell every instance's members of `room` that `userId` arrived or left (non-durable). */
  private async announce (room: string, type: typeof ServerMessage.UserJoined | typeof ServerMessage.UserLeft, userId: string): Promise<void> {
    const frame = roomFrameParts(type, room, { userId })
    const except = type === ServerMessage.UserJoined ? { users: [userId] } : undefined
    const { transport } = this.cluster.backend
    await transport.publish(transport.roomChannel(room), encodeRoomEnvelope(except, frame.head + frame.tail))
  }
}
