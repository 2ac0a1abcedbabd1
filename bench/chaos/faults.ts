/**
 * The faults of the chaos run, on a schedule drawn from a seed: the same seed gives the same
 * faults at the same offsets against the same instances (what the clients do around them is timing).
 */
import type { ChaosCluster } from './cluster.js'

export type FaultKind =
  /** `kill -9` of an instance, restarted after `holdMs`. */
  | 'kill'
  /** A deploy: SIGTERM (every socket closed with 1001), then the instance starts again. */
  | 'deploy'
  /** Redis killed and started again empty: every room's numbering restarts (a new epoch). */
  | 'redis-restart'
  /** The link between an instance and Redis cut for `holdMs`. */
  | 'redis-cut'
  /** Every client connection of an instance cut at the load balancer (1006, no close frame). */
  | 'client-cut'

export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'deploy', 'redis-restart', 'redis-cut', 'client-cut']

export interface Fault {
  readonly at: number
  readonly kind: FaultKind
  readonly instance: number
  readonly holdMs: number
}

/** mulberry32: a small seeded PRNG, good enough to draw a schedule. */
export function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `count` faults (at least one of each kind, in a drawn order) spread over `durationMs`, each in its
 * own slot with a drawn offset, after a 2 s calm start and ending 3 s before the end.
 */
export function schedule (random: () => number, durationMs: number, instances: number, count: number): Fault[] {
  const kinds = [...FAULT_KINDS]
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!]
  }
  while (kinds.length < count) kinds.push(FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)]!)
  const start = 2000
  const slot = Math.max(1000, (durationMs - start - 3000) / kinds.length)
  return kinds.map((kind, i) => ({
    at: Math.round(start + i * slot + random() * slot * 0.5),
    kind,
    instance: Math.floor(random() * instances),
    holdMs: Math.round(500 + random() * (kind === 'redis-cut' ? 5500 : 2000)),
  }))
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Inject one fault and undo it (restart, reconnect the link); resolves once everything is back up. */
export async function inject (cluster: ChaosCluster, fault: Fault): Promise<void> {
  const instance = cluster.instances[fault.instance]!
  switch (fault.kind) {
    case 'kill':
      await cluster.kill(instance)
      await sleep(fault.holdMs)
      await cluster.launch(instance)
      return
    case 'deploy':
      await cluster.terminate(instance)
      await cluster.launch(instance)
      return
    case 'redis-restart':
      await cluster.redis.restartEmpty()
      return
    case 'redis-cut':
      await instance.redisProxy.down()
      await sleep(fault.holdMs)
      await instance.redisProxy.up()
      return
    case 'client-cut':
      cluster.balancer.cut(instance.port)
  }
}

/** Run the schedule from `startedAt`, one fault after the other (a late one starts as soon as the previous is undone). */
export async function runSchedule (cluster: ChaosCluster, faults: Fault[], startedAt: number, log: (line: string) => void): Promise<number> {
  let injected = 0
  for (const fault of faults) {
    const wait = startedAt + fault.at - Date.now()
    if (wait > 0) await sleep(wait)
    log(`+${((Date.now() - startedAt) / 1000).toFixed(1)} s (${new Date().toISOString().slice(11, 23)})  ${fault.kind} (instance ${fault.instance}, ${fault.holdMs} ms)`)
    await inject(cluster, fault)
    injected++
  }
  return injected
}
