/**
 * Liveness of a cluster adapter: the heartbeat, reaping instances that stopped beating (their
 * users leave with `user_left`), re-registering this instance's memberships after an outage, and
 * leaving on close. Written once over `PresenceStore`, for every backend.
 */
import type { AdapterHost } from '../adapter.js'
import type { ClusterBackend, ClusterTimings } from './cluster-roles.js'
import type { ClusterHealth } from './cluster-health.js'
import type { LocalMembers } from './local-members.js'
import { ServerMessage } from '../protocol/names.js'

/** Dead instances claimed per heartbeat. */
const REAP_BATCH = 10

export interface LivenessContext {
  readonly backend: ClusterBackend
  readonly host: AdapterHost
  readonly local: LocalMembers
  readonly health: ClusterHealth
  /** True when the backend takes commands now (and the adapter is not closing). */
  available(): boolean
  /** Tell every instance's members of `room` that `userId` arrived or left (non-durable). */
  announce(room: string, type: typeof ServerMessage.UserJoined | typeof ServerMessage.UserLeft, userId: string): Promise<void>
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

  constructor (private readonly cluster: LivenessContext, private readonly timings: ClusterTimings) {}

  start (): void {
    this.timer = setInterval(() => { void this.tick() }, this.timings.heartbeatIntervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** The backend is back: everyone's heartbeat stalled meanwhile, so give instances time to beat before reaping. */
  afterOutage (): void {
    this.reapNotBefore = Date.now() + this.timings.instanceTimeoutMs
    void this.tick()
    void this.resync()
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
      const added = await backend.presence.beat(host.instanceId)
      if (this.beatFailed) {
        // Beats could not land for a while, here and likely everywhere: let every instance beat again before reaping.
        this.beatFailed = false
        this.reapNotBefore = Date.now() + this.timings.instanceTimeoutMs
      }
      if (added && this.registered) {
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
    if (Date.now() >= this.reapNotBefore && this.reaping === undefined) {
      this.reaping = this.reap().catch((err: unknown) => health.error(err)).finally(() => { this.reaping = undefined })
    }
  }

  /**
   * On close: whatever the hub did not remove (bounded shutdown) leaves now, with `user_left`;
   * then unregister. Cut short by the close timeout, the instance is still registered, its
   * heartbeat goes stale and a survivor reaps what is left.
   */
  async leave (): Promise<void> {
    const { backend: { presence }, host, health } = this.cluster
    const announced: Array<Promise<void>> = []
    try {
      await presence.removeInstance(host.instanceId, (left) => {
        for (const [room, userId] of left) announced.push(this.cluster.announce(room, ServerMessage.UserLeft, userId).catch((err: unknown) => health.error(err)))
      })
      await Promise.all(announced)
      await presence.unregister(host.instanceId)
    } catch (err) {
      host.log.warn({ err }, `could not remove this instance's presence from ${this.cluster.backend.label} on close: survivors will reap it`)
    }
  }

  private async reap (): Promise<void> {
    const { backend: { presence }, host } = this.cluster
    while (this.cluster.available()) {
      const dead = await presence.claimDead(this.timings.instanceTimeoutMs, REAP_BATCH, host.instanceId)
      for (const instanceId of dead) {
        let usersLeft = 0
        await presence.removeInstance(instanceId, (left) => {
          usersLeft += left.length
          for (const [room, userId] of left) host.userLeft(room, userId)
        })
        this.reapedInstances++
        host.log.warn({ instanceId, usersLeft }, 'removed the presence of a dead instance')
      }
      if (dead.length < REAP_BATCH) return
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
        if (!this.cluster.available()) return
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
    for (const [n, [room, userId]] of stale.entries()) if (last[n] === true) host.userLeft(room, userId)
    const missing = [...local.entries()]
    const first = await presence.addMany(self, missing)
    for (const [n, [room, userId]] of missing.entries()) {
      if (first[n] !== true) continue
      // Through the host's presence rules when it has them (a big room hears no arrival).
      if (host.userJoined !== undefined) host.userJoined(room, userId)
      else this.cluster.announce(room, ServerMessage.UserJoined, userId).catch((err: unknown) => this.cluster.health.error(err))
    }
    // Connections that left while the batch was on its way: their removal found nothing to remove.
    const gone = missing.filter((member) => !local.has(...member))
    const lastOfGone = await presence.removeMany(self, gone)
    for (const [n, [room, userId]] of gone.entries()) {
      if (lastOfGone[n] === true) host.userLeft(room, userId)
    }
  }
}
