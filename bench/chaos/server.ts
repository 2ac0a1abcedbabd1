/**
 * One instance of the chaos run: the example chat app as shipped (rate limit, presence, history
 * on) on the Redis adapter, in its own process so that `kill -9` is real. It answers the
 * orchestrator over IPC (bench/ipc.ts): the adapter's members of rooms (the truth the clients'
 * views are checked against) and a probe of what the process holds (heap after GC, active handles,
 * live timers and intervals) for the leak check. SIGTERM is a deploy: `app.close()` (every socket
 * closed with 1001), then exit.
 *
 *   node --expose-gc --import tsx bench/chaos/server.ts '{"port":…,"redisUrl":…,"keyPrefix":…,"secret":…}'
 */
import { serve } from '../ipc.js'

export interface ChaosServerConfig {
  port: number
  redisUrl: string
  keyPrefix: string
  secret: string
  /** The adapter's liveness beat; survivors reap a killed instance after `instanceTimeoutMs`. */
  heartbeatIntervalMs: number
  instanceTimeoutMs: number
}

export interface Probe {
  connections: number
  rooms: number
  heapUsed: number
  /** `process.getActiveResourcesInfo()` by kind (ref'd timers, sockets, …). */
  resources: Record<string, number>
  /** Timeouts created and neither fired nor cleared (unref'd ones included), and intervals not cleared. */
  liveTimeouts: number
  liveIntervals: number
  adapterConnected: boolean
}

// Count timers before the app exists: unref'd timers do not show in getActiveResourcesInfo().
const liveTimeouts = new Set<unknown>()
const liveIntervals = new Set<unknown>()
const real = { setTimeout, clearTimeout, setInterval, clearInterval }
globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const handle = real.setTimeout((...a: unknown[]) => { liveTimeouts.delete(handle); fn(...a) }, ms, ...args)
  liveTimeouts.add(handle)
  return handle
}) as typeof setTimeout
globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
  liveTimeouts.delete(handle)
  real.clearTimeout(handle)
}) as typeof clearTimeout
globalThis.setInterval = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const handle = real.setInterval(fn, ms, ...args)
  liveIntervals.add(handle)
  return handle
}) as typeof setInterval
globalThis.clearInterval = ((handle: Parameters<typeof clearInterval>[0]) => {
  liveIntervals.delete(handle)
  real.clearInterval(handle)
}) as typeof clearInterval

const config = JSON.parse(process.argv[2] ?? '{}') as ChaosServerConfig
const { buildChatApp } = await import('../../examples/chat/app.js')
const { RedisAdapter } = await import('../../redis.js')

const app = await buildChatApp({
  jwtSecret: config.secret,
  // To stdout, which the orchestrator sends to this instance's log file.
  logger: { level: 'warn' },
  ws: {
    adapter: new RedisAdapter({
      url: config.redisUrl,
      keyPrefix: config.keyPrefix,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      instanceTimeoutMs: config.instanceTimeoutMs,
    }),
  },
})
await app.listen({ host: '127.0.0.1', port: config.port })

function resources (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
  return counts
}

async function probe (): Promise<Probe> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((resolve) => real.setTimeout(resolve, 20))
  }
  const stats = app.ws.stats()
  return {
    connections: stats.connections,
    rooms: app.ws.rooms().length,
    heapUsed: process.memoryUsage().heapUsed,
    resources: resources(),
    liveTimeouts: liveTimeouts.size,
    liveIntervals: liveIntervals.size,
    adapterConnected: (stats.adapter as { connected?: boolean }).connected === true,
  }
}

let closing = false
const shutDown = async (): Promise<void> => {
  if (closing) return
  closing = true
  await app.close()
}
process.once('SIGTERM', () => { shutDown().finally(() => process.exit(0)) })

serve({
  ready: () => ({ port: config.port }),
  probe,
  /** Members of each room as the adapter (Redis) has them: the cluster-wide truth. */
  members: async (rooms: string[]) => {
    const out: Record<string, string[]> = {}
    for (const room of rooms) out[room] = [...await app.ws.members(room)].sort()
    return out
  },
}, shutDown)
// Listening and answering: tell the orchestrator (a message with no request id).
process.send!({ ready: true })
