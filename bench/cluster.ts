/**
 * A 3-master Redis Cluster for one benchmark run, started with the same starter the tests use
 * (test/helpers/redis-cluster.ts: `redis-server` on free ports, `redis-cli --cluster create`),
 * torn down afterwards. Also reads the CPU the masters spent (`INFO cpu`), so a run can report
 * Redis CPU per delivery beside the servers'.
 */
import { useLocalCluster, type LocalCluster, type Tap } from '../test/helpers/redis-cluster.js'

export interface BenchCluster {
  /** Startup node URLs, for the adapters. */
  readonly urls: string[]
  /** CPU (µs, user + system) every node has used since it started, summed. */
  cpuUs(): Promise<number>
  /** How many of `keys` (or channels) each master serves (ports in creation order), to show the spread. */
  spread(keys: readonly string[]): Promise<number[]>
  stop(): Promise<void>
}

/** A started cluster, or why none could start (redis-server/redis-cli not on PATH). */
export async function startCluster (masters = 3): Promise<BenchCluster | { unavailable: string }> {
  const teardowns: Array<() => unknown> = []
  let skipped: string | undefined
  // The tests' starter speaks to tap; here a run stops its own cluster.
  const t: Tap = {
    teardown: (fn) => { teardowns.push(fn) },
    fail: (message) => { skipped = message },
    plan: (_n, reason) => { skipped ??= reason ?? 'skipped' },
    // The starter's note names tests; keep its reason only.
    comment: (...message) => { skipped = message.map(String).join(' ').replace(/: skipping .*$/, '') },
  }
  const stop = async (): Promise<void> => {
    for (const fn of teardowns.reverse()) await fn()
    teardowns.length = 0
  }
  let cluster: LocalCluster | undefined
  try {
    // The default node timeout (15 s), not the tests' 1 s: a busy 2-core machine must not make
    // the masters declare each other failed in the middle of a phase.
    cluster = await useLocalCluster(t, { masters, replicas: 0, nodeTimeoutMs: 15_000 })
  } catch (err) {
    await stop()
    throw err
  }
  if (cluster === undefined) return { unavailable: skipped ?? 'redis-server/redis-cli not available' }
  const local = cluster
  return {
    urls: local.urls,
    cpuUs: async () => {
      const infos = await Promise.all(local.nodes.map(async ({ port }) => local.node(port).info('cpu')))
      return infos.reduce((sum, info) => {
        const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0)
        const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0)
        return sum + Math.round((user + sys) * 1e6)
      }, 0)
    },
    spread: async (keys) => {
      const owners = await Promise.all(keys.map(async (key) => local.masterOf(key)))
      return local.nodes.map(({ port }) => owners.filter((owner) => owner === port).length)
    },
    stop,
  }
}
