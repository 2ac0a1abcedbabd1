/**
 * Liveness of a cluster adapter: the heartbeat, reaping instances that stopped beating (their
 * users leave with `user_left`), re-registering this instance's memberships after an outage, and
 * leaving on close. Written once over `PresenceStore`, for every backend.
 */
import type { AdapterHost } from '../adapter.js'
import type { ClusterBackend, ClusterTimings, Membership } from './cluster-roles.js'
import type { ClusterHealth } from './cluster-health.js'
import type { LocalMembers } from './local-members.js'

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
  announce(room: string, type: 'user_joined' | 'user_left', userId: string): Promise<void>
}

export class Liveness {
  reapedInstances = 0
  private timer: NodeJS.Timeout | undefined
  private ticking = false
  private registered = false
  private reapNotBefore = 0
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
    void this.resync().then(() => this.tick())
  }

  /** Heartbeat, then reap dead instances. Never overlaps itself; never throws. */
  async tick (): Promise<void> {
    const { backend, host, health } = this.cluster
    if (!this.cluster.available() || this.ticking) return
    this.ticking = true
    try {
      const added = await backend.presence.beat(host.instanceId)
      if (added && this.registered) {
        host.log.warn({ instanceId: host.instanceId }, 'other instances presumed this one dead (late heartbeat): re-registering its presence')
        await this.resync()
      }
      this.registered = true
      if (Date.now() >= this.reapNotBefore) await this.reap()
    } catch (err) {
      health.error(err)
    } finally {
      this.ticking = false
    }
  }

  /** On close: unregister, and whatever the hub did not remove (bounded shutdown) leaves now, with `user_left`. */
  async leave (): Promise<void> {
    const { backend: { presence }, host } = this.cluster
    try {
      await presence.unregister(host.instanceId)
      for (const [room, userId] of await presence.removeInstance(host.instanceId)) await this.cluster.announce(room, 'user_left', userId)
    } catch (err) {
      host.log.warn({ err }, `could not remove this instance's presence from ${this.cluster.backend.label} on close`)
    }
  }

  private async reap (): Promise<void> {
    const { backend: { presence }, host } = this.cluster
    const dead = await presence.claimDead(this.timings.instanceTimeoutMs, REAP_BATCH, host.instanceId)
    for (const instanceId of dead) {
      const left = await presence.removeInstance(instanceId)
      for (const [room, userId] of left) host.userLeft(room, userId)
      this.reapedInstances++
      host.log.warn({ instanceId, usersLeft: left.length }, 'removed the presence of a dead instance')
    }
  }

  /**
   * Make the presence store hold exactly this instance's local memberships: remove records it no
   * longer has (announcing `user_left`), add the ones it lacks (announcing `user_joined`).
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

  private async resyncOnce (): Promise<void> {
    const { backend: { presence }, host, local } = this.cluster
    const self = host.instanceId
    const remote = await presence.held(self)
    const recorded = new Set(remote.map(membershipKey))
    for (const member of remote) {
      if (local.has(...member)) continue
      if (await presence.remove(self, member)) host.userLeft(member[0], member[1])
    }
    for (const member of [...local.entries()]) {
      if (recorded.has(membershipKey(member))) continue
      if (await presence.add(self, member)) {
        this.cluster.announce(member[0], 'user_joined', member[1]).catch((err: unknown) => this.cluster.health.error(err))
      }
    }
  }
}

function membershipKey (member: Membership): string {
  return JSON.stringify(member)
}
