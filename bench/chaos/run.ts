/**
 * One chaos run: the cluster, the clients, the faults on a seeded schedule while everyone sends,
 * then a quiet phase until everything agrees again (bounded), the invariants, and the leak check
 * after every client has left. Used by `npm run chaos` (bench/chaos/cli.ts) and test/chaos.test.ts.
 */
import { CHAT_DOCUMENT, generateInto, loadPackage } from '../../test/helpers/sdk.js'
import { checkDeliveries, divergence, type DeliveryFigures, type Divergence } from './check.js'
import { ChaosCluster, type Tap } from './cluster.js'
import { runSchedule, schedule, seeded, type FaultKind } from './faults.js'
import { Fleet } from './fleet.js'
import type { Probe } from './server.js'

export interface ChaosOptions {
  seed: number
  durationMs: number
  clients: number
  rooms: number
  roomsPerClient: number
  /** Each client sends one durable message this often on average. */
  sendEveryMs: number
  faults: number
  /** How long the quiet phase may take to converge. */
  convergeTimeoutMs: number
  /** Keep the instances' log files (warnings) after the run. */
  keepLogs?: boolean
  log: (line: string) => void
}

export interface Leak {
  instance: number
  start: Probe
  end: Probe
}

export interface ChaosResult {
  figures: DeliveryFigures & {
    faults: Record<FaultKind, number>
    /** Until the servers' members, the clients' states and seqs, and every members view agreed. */
    convergeMs: number | undefined
    /** Until the servers' members, the clients' states and seqs agreed (members views aside). */
    stateConvergeMs: number | undefined
    /** From the last fault undone to the end of sending (when the convergence clock starts). */
    sinceLastFaultMs: number
    clients: number
    rooms: number
    durationMs: number
  }
  violations: string[]
  /** What still differed when convergence timed out (empty when converged). */
  divergence: Divergence
  leaks: string[]
  probes: Leak[]
}

const SECRET = 'chaos-secret'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Bounds of what an instance may hold after every client left, against its own start. */
const HEAP_GROWTH_BOUND = 24 * 1024 * 1024
const TIMER_SLACK = 4
/** Once the servers agree, how long the members views may still take. */
const VIEW_GRACE_MS = 10_000

export async function runChaos (t: Tap, options: ChaosOptions): Promise<ChaosResult | undefined> {
  const { log } = options
  const random = seeded(options.seed)
  const cluster = await ChaosCluster.start(t, { instances: 3, secret: SECRET, heartbeatIntervalMs: 1000, instanceTimeoutMs: 4000, keepLogs: options.keepLogs === true })
  if (cluster === undefined) return undefined
  const generated = await loadPackage((await generateInto(t, CHAT_DOCUMENT)).outDir)
  const fleet = new Fleet(generated, cluster.url, SECRET)
  t.teardown(() => fleet.closeAll())
  log(`instance logs (warnings): ${cluster.logDir}`)
  log(`seed ${options.seed}: 3 instances, ${options.clients} clients in ${options.rooms} rooms (${options.roomsPerClient} each), ${options.durationMs / 1000} s`)
  await fleet.join(options.clients, options.rooms, options.roomsPerClient)
  log('every client joined its rooms')

  const faults = schedule(random, options.durationMs, cluster.instances.length, options.faults)
  const startedAt = Date.now()
  fleet.startSending(options.sendEveryMs, random)
  await runSchedule(cluster, faults, startedAt, log)
  const lastFaultUndoneAt = Date.now()
  await sleep(Math.max(0, startedAt + options.durationMs - Date.now()))
  await fleet.stopSending()
  const healedAt = Date.now()
  log(`+${((healedAt - startedAt) / 1000).toFixed(1)} s  sending stopped, every fault undone; converging`)

  const rooms = [...new Set(fleet.clients.flatMap((client) => client.rooms))].sort()
  let convergeMs: number | undefined
  let stateConvergeMs: number | undefined
  let remaining: Divergence = { state: [], views: [] }
  while (Date.now() - healedAt < options.convergeTimeoutMs) {
    remaining = divergence(fleet.clients, await cluster.each<Record<string, string[]>>('members', rooms))
    if (remaining.state.length === 0) stateConvergeMs ??= Date.now() - healedAt
    if (remaining.state.length === 0 && remaining.views.length === 0) { convergeMs = Date.now() - healedAt; break }
    // A view that missed an event is never repaired by a later one: do not wait the whole bound for it.
    if (stateConvergeMs !== undefined && Date.now() - healedAt - stateConvergeMs > VIEW_GRACE_MS) break
    await sleep(250)
  }
  const { figures, violations } = checkDeliveries(fleet.clients)
  for (const client of fleet.clients) violations.push(...client.problems)

  // Everyone leaves: every instance must let go of everything it held for them.
  await fleet.closeAll()
  const leaks: string[] = []
  const probes: Leak[] = []
  const deadline = Date.now() + 20_000
  for (;;) {
    const members = await cluster.each<Record<string, string[]>>('members', rooms)
    const ends = await cluster.each<Probe>('probe')
    const empty = ends.every((probe) => probe.connections === 0 && probe.rooms === 0) && members.every((byRoom) => Object.values(byRoom).every((users) => users.length === 0))
    if (empty || Date.now() > deadline) {
      if (!empty) leaks.push(`not empty after every client left: ${JSON.stringify(ends.map((p) => ({ connections: p.connections, rooms: p.rooms })))}, members ${JSON.stringify(members.map((m) => Object.values(m).flat().length))}`)
      for (const [i, end] of ends.entries()) {
        const start = cluster.instances[i]!.startProbe!
        probes.push({ instance: i, start, end })
        if (end.heapUsed - start.heapUsed > HEAP_GROWTH_BOUND) leaks.push(`instance ${i}: heap grew by ${mib(end.heapUsed - start.heapUsed)} MiB`)
        if (end.liveTimeouts > start.liveTimeouts + TIMER_SLACK) leaks.push(`instance ${i}: ${end.liveTimeouts} live timeouts (${start.liveTimeouts} at start)`)
        if (end.liveIntervals > start.liveIntervals) leaks.push(`instance ${i}: ${end.liveIntervals} live intervals (${start.liveIntervals} at start)`)
        const sockets = (probe: Probe): number => probe.resources.TCPSocketWrap ?? 0
        if (sockets(end) > sockets(start)) leaks.push(`instance ${i}: ${sockets(end)} TCP sockets (${sockets(start)} at start)`)
      }
      break
    }
    await sleep(250)
  }

  const injected = Object.fromEntries(['kill', 'deploy', 'redis-restart', 'redis-cut', 'client-cut'].map((kind) => [kind, faults.filter((f) => f.kind === kind).length])) as Record<FaultKind, number>
  return {
    figures: { ...figures, faults: injected, convergeMs, stateConvergeMs, sinceLastFaultMs: healedAt - lastFaultUndoneAt, clients: options.clients, rooms: rooms.length, durationMs: options.durationMs },
    violations,
    divergence: convergeMs === undefined ? { state: remaining.state.slice(0, 20), views: remaining.views.slice(0, 20) } : { state: [], views: [] },
    leaks,
    probes,
  }
}

function seconds (ms: number | undefined): string {
  return ms === undefined ? 'NOT CONVERGED' : `${(ms / 1000).toFixed(1)} s`
}

export function mib (bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

/** The figures as printed lines. */
export function report (result: ChaosResult): string[] {
  const f = result.figures
  const failed = Object.entries(f.failed).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'
  return [
    `clients ${f.clients}, rooms ${f.rooms}, ${f.durationMs / 1000} s of faults: ${Object.entries(f.faults).map(([k, n]) => `${k} ×${n}`).join(', ')}`,
    `messages sent ${f.sent}, acknowledged ${f.acked}, refused/failed ${f.sent - f.acked} (${failed})`,
    `deliveries owed ${f.owed}: delivered ${f.owed - f.reportedLost - f.lost - f.lostInRestart}, reported lost (recovered: false) ${f.reportedLost}, LOST ${f.lost} (+ ${f.lostInRestart} lost in a numbering restart not announced)`,
    `deliveries received ${f.delivered} (of which replayed on recovery ${f.recovered}), duplicates ${f.duplicates}, order violations ${f.orderViolations}, numbering restarts not announced ${f.unannouncedRestarts}`,
    `reconnects ${f.reconnects}, re-joins recovered ${f.rejoinsRecovered}, not recovered ${f.rejoinsNotRecovered}`,
    `time to converge after sending stopped (${seconds(f.sinceLastFaultMs)} after the last fault was undone): servers' members, clients' states and seqs ${seconds(f.stateConvergeMs)}; every members view too ${seconds(f.convergeMs)}`,
    ...result.probes.map((p) => `instance ${p.instance}: heap ${mib(p.start.heapUsed)} → ${mib(p.end.heapUsed)} MiB, timeouts ${p.start.liveTimeouts} → ${p.end.liveTimeouts}, intervals ${p.start.liveIntervals} → ${p.end.liveIntervals}, handles ${JSON.stringify(p.end.resources)}`),
  ]
}
