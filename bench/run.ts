/**
 * `npm run bench`: this plugin side by side with a raw `ws` server and Socket.IO 4 (and, when the
 * Redis adapter exists, both on Redis with 3 instances, and on a 3-master Redis Cluster the run
 * starts itself: `--scenario=cluster-3x3`). Servers and the load generator are
 * separate processes pinned to different cores; variants alternate, runs repeat, and the report
 * gives medians with min–max. See bench/README.md.
 *
 *   npm run bench                     full run (3 repeats, ~12 min on 2 cores)
 *   npm run bench -- --quick          one repeat, short phases (~2 min)
 *   options: --repeat=N --seconds=S --only=plugin,ws --scenario=fanout-1k,rooms --profile
 *            --heap-snapshot --rate=DELIVERIES_PER_S --out=NAME
 */
import { spawn, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpus, totalmem } from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { startCluster, type BenchCluster } from './cluster.js'
import { Peer } from './ipc.js'
import type { ConnectArgs, PhaseArgs, PhaseResult } from './loadgen.js'
import { chartPanels, markdown, medianOf, svgChart, type Machine, type Sample, type Section } from './report.js'
import { fmt } from './stats.js'
import type { VariantName } from './wire.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const resultsDir = join(here, 'results')
const SECRET = 'bench-secret-' + randomBytes(8).toString('hex')
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

// ── options ────────────────────────────────────────────────────────────────
const argv = new Map(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=') as [string, string | undefined]
  return [k, v ?? 'true']
}))
const quick = argv.has('quick')
const repeats = Number(argv.get('repeat') ?? (quick ? 1 : 3))
const phaseMs = Number(argv.get('seconds') ?? (quick ? 2 : 3)) * 1000
/** Offered load of the fixed-rate phases, in deliveries per second (well under every variant's ceiling). */
const fixedDeliveries = Number(argv.get('rate') ?? 20_000)
const onlyVariants = argv.get('only')?.split(',') as VariantName[] | undefined
const onlyScenarios = argv.get('scenario')?.split(',')
const profile = argv.has('profile')
const heapSnapshot = argv.has('heap-snapshot')
const outName = argv.get('out') ?? (quick ? 'quick' : 'bench')
const MAX_RUN_MS = 30 * 60_000
const bigRoomN = Number(argv.get('bigroom-n') ?? 10_000)

// ── scenarios ──────────────────────────────────────────────────────────────
interface PhaseDef { label: string, mode: 'max' | 'rate', frameBytes: number }
interface SessionDef {
  id: string
  section: string
  title: string
  variants: VariantName[]
  instances: number
  connections: number
  rooms: string[]
  users: number
  publishers: 'first' | 'all'
  idle: boolean
  /** Measure the join phase (time, server CPU) and, at the end, a leave storm. */
  storms?: boolean
  phases: PhaseDef[]
}

const SINGLE = 'Single instance (memory adapters)'
const MULTI = 'Multi-instance on Redis (3 instances, one core between them)'
const CLUSTER = 'Multi-instance on Redis Cluster (3 instances on 3 masters, one core between the instances)'
/** Not a multiple of 3: client i joins room i mod ROOMS on instance i mod 3, so every room has members on every instance. */
const CLUSTER_ROOMS = 100
const both = (bytes: number): PhaseDef[] => [
  { label: `${bytes === 128 ? '128 B' : '4 KB'} · max`, mode: 'max', frameBytes: bytes },
  { label: `${bytes === 128 ? '128 B' : '4 KB'} · fixed rate`, mode: 'rate', frameBytes: bytes },
]
const singleVariants: VariantName[] = ['plugin', 'ws', 'socketio']
const allSessions: SessionDef[] = [
  { id: 'fanout-1k', section: SINGLE, title: 'fan-out N=1,000', variants: singleVariants, instances: 1, connections: 1000, rooms: ['bench'], users: 16, publishers: 'first', idle: false, phases: [...both(128), ...both(4096)] },
  { id: 'fanout-10k', section: SINGLE, title: 'fan-out N=10,000', variants: singleVariants, instances: 1, connections: 10_000, rooms: ['bench'], users: 16, publishers: 'first', idle: true, phases: quick ? both(128) : [...both(128), ...both(4096)] },
  { id: 'rooms', section: SINGLE, title: '1,000 rooms × 10', variants: singleVariants, instances: 1, connections: 10_000, rooms: Array.from({ length: 1000 }, (_, i) => `room-${i}`), users: 10_000, publishers: 'all', idle: false, phases: both(128) },
  // Distinct users: every member is its own user, so presence is paid in full by the plugin
  // (raw ws and Socket.IO have none). N can be lowered with --bigroom-n=N (e.g. to time the old presence).
  { id: 'bigroom', section: SINGLE, title: `one room, ${fmt(bigRoomN)} distinct users`, variants: singleVariants, instances: 1, connections: bigRoomN, rooms: ['bench'], users: bigRoomN, publishers: 'first', idle: false, storms: true, phases: [both(128)[0]!] },
  { id: 'rooms-storm', section: SINGLE, title: '1,000 rooms × 10 distinct users', variants: singleVariants, instances: 1, connections: 10_000, rooms: Array.from({ length: 1000 }, (_, i) => `room-${i}`), users: 10_000, publishers: 'all', idle: false, storms: true, phases: [] },
  // Redis Cluster started by the run itself (3 masters, free ports); distinct users, rooms spread
  // over the slots (so over the masters), every room with members on all 3 instances.
  { id: 'cluster-3x3', section: CLUSTER, title: `${CLUSTER_ROOMS} rooms × 30 distinct users over 3`, variants: ['plugin-cluster', 'socketio-cluster'], instances: 3, connections: 3000, rooms: Array.from({ length: CLUSTER_ROOMS }, (_, i) => `room-${i}`), users: 3000, publishers: 'all', idle: false, phases: both(128) },
  { id: 'redis', section: MULTI, title: 'fan-out N=3,000 over 3', variants: ['plugin-redis', 'socketio-redis'], instances: 3, connections: 3000, rooms: ['bench'], users: 16, publishers: 'first', idle: false, phases: both(128) },
]
const sessions = allSessions
  .filter((s) => onlyScenarios === undefined || onlyScenarios.includes(s.id))
  .map((s) => ({ ...s, variants: s.variants.filter((v) => onlyVariants === undefined || onlyVariants.includes(v) || onlyVariants.includes(v.replace(/-(redis|cluster)$/, '') as VariantName)) }))
  .filter((s) => s.variants.length > 0)

// ── processes ──────────────────────────────────────────────────────────────
const hasTaskset = (() => {
  try { execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }); return true } catch { return false }
})()
const pinned = hasTaskset && cpus().length >= 2

function launch (name: string, core: number, script: string, args: string[], nodeArgs: string[] = []): Peer {
  const node = [...nodeArgs, '--import', 'tsx', join(here, script), ...args]
  const child = pinned
    ? spawn('taskset', ['-c', String(core), process.execPath, ...node], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : spawn(process.execPath, node, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Peer(name, child)
}

interface Mark { cpuUs: number, atUs: number }

const samples: Sample[] = []
const unavailable = new Map<string, Map<VariantName, string>>()

function record (session: SessionDef, row: string, figure: Sample['figure'], variant: VariantName, value: number): void {
  samples.push({ section: session.section, row: `${session.title}${row === '' ? '' : ' · ' + row}`, figure, variant, value })
}

function markUnavailable (session: SessionDef, variant: VariantName, reason: string): void {
  const byVariant = unavailable.get(session.section) ?? new Map()
  byVariant.set(variant, reason)
  unavailable.set(session.section, byVariant)
  console.log(`  ${session.id} ${variant}: not available (${reason})`)
}

async function runSession (session: SessionDef, variant: VariantName, rep: number): Promise<void> {
  const started = performance.now()
  const redisPrefix = `bench:${randomBytes(4).toString('hex')}:`
  // Redis Cluster variants get a fresh cluster of their own, stopped after the run.
  let cluster: BenchCluster | undefined
  if (variant.endsWith('-cluster')) {
    const startedCluster = await startCluster(3)
    if ('unavailable' in startedCluster) { markUnavailable(session, variant, startedCluster.unavailable); return }
    cluster = startedCluster
  }
  try {
    await runOn(session, variant, rep, started, redisPrefix, cluster)
  } finally {
    await cluster?.stop()
  }
}

async function runOn (session: SessionDef, variant: VariantName, rep: number, started: number, redisPrefix: string, cluster: BenchCluster | undefined): Promise<void> {
  const redis = cluster !== undefined
    ? { redis: { url: REDIS_URL, prefix: redisPrefix, clusterNodes: cluster.urls } }
    : variant.endsWith('-redis') ? { redis: { url: REDIS_URL, prefix: redisPrefix } } : {}
  const config = JSON.stringify({ secret: SECRET, ...redis })
  const profileArgs = profile && variant.startsWith('plugin') ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'profiles.tmp')}`] : []
  const servers = Array.from({ length: session.instances }, (_, i) => launch(`${variant}#${i}`, 0, 'server.ts', [variant, config], ['--expose-gc', ...profileArgs]))
  let loadgen: Peer | undefined
  try {
    const starts = await Promise.all(servers.map(async (s) => s.call<{ port: number, available: boolean, reason?: string }>('start', undefined, 30_000)))
    const missing = starts.find((s) => !s.available)
    if (missing !== undefined) { markUnavailable(session, variant, missing.reason ?? 'not available'); return }
    if (cluster !== undefined && rep === 0) {
      // Where the rooms' channels live: the plugin hashes `{r:<room>}`, Socket.IO's sharded adapter the whole channel name.
      const keys = session.rooms.map((room) => variant.startsWith('plugin') ? `{r:${room}}` : `${redisPrefix}socket.io#/#${room}#`)
      console.log(`  ${session.id} ${variant}: rooms per master ${(await cluster.spread(keys)).join(' / ')}`)
    }
    loadgen = launch('loadgen', 1, 'loadgen.ts', [])
    const memory = async (): Promise<NodeJS.MemoryUsage> => servers[0]!.call<NodeJS.MemoryUsage>('memory')
    const before = session.idle ? await memory() : undefined
    const connectArgs: ConnectArgs = {
      variant,
      bases: starts.map((s) => `ws://127.0.0.1:${s.port}`),
      count: session.connections,
      rooms: session.rooms,
      users: session.users,
      secret: SECRET,
      concurrency: 64,
      timeoutMs: 30_000,
    }
    const joinMark = await servers[0]!.call<Mark>('mark')
    const setup = await loadgen.call<{ ms: number, errors: number, firstError?: string }>('connect', connectArgs, 300_000)
    if (session.storms === true) {
      const joined = await servers[0]!.call<Mark>('mark')
      record(session, '', 'joinMs', variant, setup.ms)
      record(session, '', 'joinCpuUs', variant, (joined.cpuUs - joinMark.cpuUs) / session.connections)
    }
    if (setup.firstError !== undefined) console.log(`  ${session.id} ${variant}: ${setup.errors} setup errors, first: ${setup.firstError}`)
    let errors = setup.errors
    if (session.idle) {
      record(session, '', 'setupPerSec', variant, session.connections / (setup.ms / 1000))
      await new Promise((resolve) => setTimeout(resolve, 500))
      const after = await memory()
      record(session, '', 'heapB', variant, (after.heapUsed - before!.heapUsed) / session.connections)
      record(session, '', 'rssB', variant, (after.rss - before!.rss) / session.connections)
      if (heapSnapshot) console.log(`  heap snapshot: ${await servers[0]!.call<string>('snapshot', join(resultsDir, `${variant}-idle.heapsnapshot.tmp`), 300_000)}`)
    }
    const members = session.connections / session.rooms.length
    for (const phase of session.phases) {
      const args: PhaseArgs = {
        mode: phase.mode,
        publishers: session.publishers,
        perMessage: members,
        // Enough publishes in flight to keep the server busy without deep socket buffers.
        window: session.publishers === 'all' ? 200 : Math.max(2, Math.ceil(20_000 / members)),
        // Many rooms: every publish is a frame the load generator must also send; half the rate.
        rate: (session.publishers === 'all' ? fixedDeliveries / 2 : fixedDeliveries) / members,
        durationMs: phaseMs,
        frameBytes: phase.frameBytes,
      }
      const redis0 = await cluster?.cpuUs()
      const m0 = await Promise.all(servers.map(async (s) => s.call<Mark>('mark')))
      const result = await loadgen.call<PhaseResult>('phase', args, phaseMs + 30_000)
      const m1 = await Promise.all(servers.map(async (s) => s.call<Mark>('mark')))
      const redis1 = await cluster?.cpuUs()
      const cpuUs = m1.reduce((sum, m, i) => sum + m.cpuUs - m0[i]!.cpuUs, 0)
      const perDelivery = (us: number): number => us / Math.max(1, result.deliveries)
      record(session, phase.label, 'cpuUs', variant, perDelivery(cpuUs))
      const redisCpuUs = redis0 === undefined || redis1 === undefined ? undefined : redis1 - redis0
      if (redisCpuUs !== undefined) {
        record(session, phase.label, 'redisCpuUs', variant, perDelivery(redisCpuUs))
        record(session, phase.label, 'totalCpuUs', variant, perDelivery(cpuUs + redisCpuUs))
      }
      if (phase.mode === 'max') record(session, phase.label, 'dps', variant, result.deliveries / (result.elapsedMs / 1000))
      if (result.latency !== undefined) {
        record(session, phase.label, 'p50Ms', variant, result.latency.p50Ms)
        record(session, phase.label, 'p99Ms', variant, result.latency.p99Ms)
        record(session, phase.label, 'maxMs', variant, result.latency.maxMs)
      }
      const missingDeliveries = result.expected - result.deliveries
      if (missingDeliveries !== 0) record(session, phase.label, 'dropped', variant, missingDeliveries)
      errors += result.closed
      console.log(`  ${session.id} ${variant} ${phase.label}: ${fmt(result.deliveries / (result.elapsedMs / 1000))} deliveries/s, ${fmt(perDelivery(cpuUs))} µs CPU/delivery` +
        (redisCpuUs === undefined ? '' : ` (+ ${fmt(perDelivery(redisCpuUs))} µs Redis)`) +
        (result.latency === undefined ? '' : `, p50 ${fmt(result.latency.p50Ms)} ms, p99 ${fmt(result.latency.p99Ms)} ms`) +
        (missingDeliveries !== 0 ? `, ${missingDeliveries} missing` : '') + (result.stalls > 0 ? `, ${result.stalls} stalls` : ''))
    }
    const open = (await Promise.all(servers.map(async (s) => s.call<number>('connections')))).reduce((a, b) => a + b, 0)
    errors += Math.abs(session.connections - setup.errors - open)
    if (session.storms === true) await leaveStorm(session, variant, servers[0]!, loadgen)
    record(session, '', 'errors', variant, errors)
    console.log(`  ${session.id} ${variant}: ${session.connections} connections, setup ${fmt(setup.ms)} ms, ${errors} errors, ${fmt((performance.now() - started) / 1000)} s (repeat ${rep + 1})`)
  } finally {
    await loadgen?.stop()
    await Promise.all(servers.map(async (s) => s.stop()))
    if (variant.endsWith('-redis')) await cleanRedis(redisPrefix)
  }
}

/** Every client closes at once; timed until the server holds no connection (bounded: 120 s). */
async function leaveStorm (session: SessionDef, variant: VariantName, server: Peer, loadgen: Peer): Promise<void> {
  const m0 = await server.call<Mark>('mark')
  const started = performance.now()
  const { closing } = await loadgen.call<{ closing: number }>('leave')
  while (performance.now() - started < 120_000 && await server.call<number>('connections') > 0) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const ms = performance.now() - started
  const m1 = await server.call<Mark>('mark')
  record(session, '', 'leaveMs', variant, ms)
  record(session, '', 'leaveCpuUs', variant, (m1.cpuUs - m0.cpuUs) / Math.max(1, closing))
  console.log(`  ${session.id} ${variant}: leave storm of ${closing} in ${fmt(ms)} ms, ${fmt((m1.cpuUs - m0.cpuUs) / Math.max(1, closing))} µs CPU per connection`)
}

/** Remove this run's keys (bounded scan). */
async function cleanRedis (prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = '0'
    for (let i = 0; i < 10_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', prefix + '*', 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
      if (cursor === '0') break
    }
  } catch {
    // Redis absent: nothing to clean.
  } finally {
    redis.disconnect()
  }
}

// ── targets ────────────────────────────────────────────────────────────────
function targets (): string[] {
  const out: string[] = []
  const m = (section: string, row: string, figure: Sample['figure'], variant: VariantName): number | undefined => medianOf(samples, section, row, figure, variant)?.median
  const check = (ok: boolean | undefined, text: string): void => { out.push(`${ok === undefined ? '–' : ok ? '✅' : '❌'} ${text}`) }
  const ratioText = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? 'n/a' : (a / b).toFixed(2) + '×')
  for (const n of ['1,000', '10,000']) {
    for (const size of ['128 B', '4 KB']) {
      const row = `fan-out N=${n} · ${size} · max`
      const cpu = [m(SINGLE, row, 'cpuUs', 'plugin'), m(SINGLE, row, 'cpuUs', 'ws')]
      if (cpu[0] === undefined || cpu[1] === undefined) continue
      check(cpu[0] <= cpu[1], `${row}: CPU per delivery ≤ 1.0× raw ws (aim ≤ 0.7×): ${ratioText(cpu[0], cpu[1])}`)
      const dps = [m(SINGLE, row, 'dps', 'plugin'), m(SINGLE, row, 'dps', 'ws'), m(SINGLE, row, 'dps', 'socketio')]
      check(dps[0]! >= dps[1]!, `${row}: deliveries/s ≥ 1.0× raw ws: ${ratioText(dps[0], dps[1])}`)
      if (dps[2] !== undefined) check(dps[0]! >= 1.5 * dps[2], `${row}: deliveries/s ≥ 1.5× Socket.IO: ${ratioText(dps[0], dps[2])}`)
      const fixed = `fan-out N=${n} · ${size} · fixed rate`
      const p99 = [m(SINGLE, fixed, 'p99Ms', 'plugin'), m(SINGLE, fixed, 'p99Ms', 'ws')]
      if (p99[0] !== undefined && p99[1] !== undefined) check(p99[0] <= p99[1], `${fixed}: p99 ≤ raw ws: ${fmt(p99[0])} ms vs ${fmt(p99[1])} ms`)
    }
  }
  const idle = 'fan-out N=10,000'
  const heap = m(SINGLE, idle, 'heapB', 'plugin')
  if (heap !== undefined) check(heap <= 6144, `heap per idle authenticated connection ≤ 6 KB: ${fmt(heap)} B`)
  const rss = [m(SINGLE, idle, 'rssB', 'plugin'), m(SINGLE, idle, 'rssB', 'ws')]
  if (rss[0] !== undefined && rss[1] !== undefined) check(rss[0] <= 1.2 * rss[1], `RSS per idle connection ≤ 1.2× raw ws: ${ratioText(rss[0], rss[1])}`)
  const errors = samples.filter((s) => s.variant === 'plugin' && s.figure === 'errors' && s.row === idle)
  if (errors.length > 0) check(errors.every((s) => s.value === 0), `10,000 connections on one process without errors: ${errors.map((s) => s.value).join(', ')} errors`)
  const redisRow = 'fan-out N=3,000 over 3 · 128 B · max'
  const redis = [m(MULTI, redisRow, 'dps', 'plugin-redis'), m(MULTI, redisRow, 'dps', 'socketio-redis')]
  check(redis[0] === undefined || redis[1] === undefined ? undefined : redis[0] >= 1.5 * redis[1], `multi-instance on Redis: deliveries/s ≥ 1.5× Socket.IO redis-adapter: ${ratioText(redis[0], redis[1])}`)
  return out
}

// ── main ───────────────────────────────────────────────────────────────────
async function main (): Promise<void> {
  const deadline = setTimeout(() => { console.error(`bench: exceeded ${MAX_RUN_MS / 60_000} min, stopping`); process.exit(2) }, MAX_RUN_MS)
  deadline.unref()
  const machine: Machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    pinning: pinned ? 'Servers pinned to core 0, load generator to core 1 (taskset).' : 'No pinning (taskset missing or one core): figures are noisier.',
  }
  console.log(`bench: ${machine.cores} cores, Node ${machine.node}, ${repeats} repeat(s), ${phaseMs / 1000} s phases${pinned ? ', pinned' : ''}`)
  const t0 = performance.now()
  for (let rep = 0; rep < repeats; rep++) {
    for (const session of sessions) {
      // Alternate: each repeat starts with a different variant.
      const order = session.variants.map((_, i) => session.variants[(i + rep) % session.variants.length]!)
      for (const variant of order) await runSession(session, variant, rep)
    }
  }
  const sections: Section[] = [
    { title: SINGLE, variants: singleVariants.filter((v) => sessions.some((s) => s.variants.includes(v))), baseline: 'ws' as VariantName, unavailable: unavailable.get(SINGLE) ?? new Map() },
    { title: MULTI, variants: (['plugin-redis', 'socketio-redis'] as VariantName[]).filter((v) => sessions.some((s) => s.variants.includes(v))), baseline: 'socketio-redis' as VariantName, unavailable: unavailable.get(MULTI) ?? new Map() },
    {
      title: CLUSTER,
      variants: (['plugin-cluster', 'socketio-cluster'] as VariantName[]).filter((v) => sessions.some((s) => s.variants.includes(v))),
      baseline: 'socketio-cluster' as VariantName,
      unavailable: unavailable.get(CLUSTER) ?? new Map(),
      note: 'A 3-master Redis Cluster started by the run (redis-server on free ports, unpinned). Server CPU: the 3 instances summed; ' +
        'Redis CPU: the 3 masters summed (INFO cpu). Raw ws: not applicable (this bench has no multi-instance raw ws server). ' +
        'Socket.IO has no presence, history or seq: the plugin sends user_joined to the room and runs one Lua script per durable message (INCR + XADD + SPUBLISH).',
    },
  ].filter((s) => s.variants.length > 0)
  for (const section of sections) if (!section.variants.includes(section.baseline)) section.baseline = section.variants[0]!
  const settings = `${repeats} repeat(s), variants alternating; ${phaseMs / 1000} s per phase. Figures: median (min–max). ` +
    '"max": one publisher keeps a few publishes in flight, as fast as the server keeps up; "fixed rate": ' +
    `${fmt(fixedDeliveries)} deliveries/s offered (half where members take turns publishing: rooms, cluster-3x3), latency from publish to receipt on ~100 sampled clients. ` +
    'Server CPU per delivery = process CPU (user + system) of the server process(es) over the phase ÷ deliveries counted by the clients. ' +
    'Idle figures: after N authenticated connections joined one room, nothing sent; (heap, RSS after GC − before) ÷ N.'
  const title = `npm run bench — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${fmt((performance.now() - t0) / 60_000)} min`
  const md = markdown(title, machine, settings, sections, samples, targets())
  const svg = svgChart(`fastify-ws-rooms vs raw ws vs Socket.IO — ${machine.cores} cores, Node ${machine.node}`, chartPanels(samples, sections))
  mkdirSync(resultsDir, { recursive: true })
  // Quick runs are for iteration: their files are ignored by git (*.tmp).
  const suffix = quick ? '.tmp' : ''
  writeFileSync(join(resultsDir, `${outName}.md${suffix}`), md + `\n![chart](${outName}.svg)\n`)
  writeFileSync(join(resultsDir, `${outName}.svg${suffix}`), svg)
  writeFileSync(join(resultsDir, `${outName}.json.tmp`), JSON.stringify({ machine, samples }, null, 1))
  console.log('\n' + md)
  console.log(`written: bench/results/${outName}.md${suffix}, bench/results/${outName}.svg${suffix}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
