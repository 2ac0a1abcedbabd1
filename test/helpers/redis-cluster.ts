/**
 * A real local Redis Cluster for tests: `redis-server` processes on free ports with
 * `--cluster-enabled yes`, joined by `redis-cli --cluster create`. Each node is a child process of
 * the test (killed at teardown, and when the test process exits); its files live in a temporary
 * folder. Without `redis-server`/`redis-cli` on PATH the file is skipped, or fails under CI.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { RedisAdapter, type RedisAdapterOptions } from '../../redis.js'
import { RedisProxy } from './redis.js'

const run = promisify(execFile)

export interface Tap {
  teardown(fn: () => unknown): void
  fail(message: string): unknown
  plan(n: number, reason?: string): void
  comment(...message: unknown[]): void
}

export interface ClusterNodeProcess {
  readonly port: number
  readonly url: string
  process: ChildProcess
}

export interface LocalCluster {
  /** Every node, masters first as created (replicas follow when asked for). */
  readonly nodes: ClusterNodeProcess[]
  /** Startup node URLs for the adapter's `cluster.nodes`. */
  readonly urls: string[]
  /** A plain connection to one node, for CLUSTER commands and checks. */
  node(port: number): Redis
  /** Kill a node as a crash would (SIGKILL). */
  kill(port: number): Promise<void>
  /** The port of the master serving `key`'s slot. */
  masterOf(key: string): Promise<number>
  /** Resolves once every replica of the master on `port` has all its writes (replication is asynchronous). */
  replicated(port: number): Promise<void>
  /** Move the slot of `key` (with its keys) to the master on `toPort`, as a resharding does. */
  moveSlot(key: string, toPort: number): Promise<void>
  /** Resolves once every node reports `cluster_state:ok` and agrees on the slot owners. */
  ready(ports?: number[]): Promise<void>
}

export async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function available (): Promise<string | undefined> {
  try {
    await run('redis-server', ['--version'])
    await run('redis-cli', ['--version'])
    return undefined
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/** A killed process has a null exit code too (its signal is set instead). */
function alive (node: ClusterNodeProcess): boolean {
  return node.process.exitCode === null && node.process.signalCode === null
}

/** True when redis-server and redis-cli can run; otherwise skips the file (fails it under CI). */
export async function requireRedisBinaries (t: Tap): Promise<boolean> {
  const problem = await available()
  if (problem === undefined) return true
  const message = `redis-server/redis-cli are not on PATH (${problem})`
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    t.fail(`${message}: tests with their own Redis servers are required when CI is set`)
  } else {
    t.comment(`${message}: skipping tests that start their own Redis servers.`)
    t.plan(0, 'no redis-server on PATH')
  }
  return false
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Start a cluster of `masters` masters, each with `replicas` replicas. Undefined when the file
 * must register no tests (skipped, or failed under CI).
 */
export async function useLocalCluster (t: Tap, options: { masters?: number, replicas?: number, nodeTimeoutMs?: number } = {}): Promise<LocalCluster | undefined> {
  if (!await requireRedisBinaries(t)) return undefined
  const masters = options.masters ?? 3
  const replicas = options.replicas ?? 0
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-cluster-'))
  const nodes: ClusterNodeProcess[] = []
  const clients = new Set<Redis>()
  const stopAll = (): void => {
    for (const node of nodes) if (alive(node)) node.process.kill('SIGKILL')
  }
  process.once('exit', stopAll)
  t.teardown(async () => {
    for (const client of clients) client.disconnect()
    stopAll()
    await Promise.all(nodes.map((node) => alive(node) ? new Promise((resolve) => node.process.once('exit', resolve)) : undefined))
    process.removeListener('exit', stopAll)
    rmSync(dir, { recursive: true, force: true })
  })
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freePort()
    const own = mkdtempSync(path.join(dir, `n${port}-`))
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf', '--dir', own, '--save', '', '--appendonly', 'no',
      '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000), '--loglevel', 'warning',
      // A replica takes over however long ago it last heard from its master (tests are short).
      '--cluster-replica-validity-factor', '0',
    ], { stdio: 'ignore' })
    nodes.push({ port, url: `redis://127.0.0.1:${port}`, process: child })
  }
  const byPort = new Map<number, Redis>()
  const node = (port: number): Redis => {
    let client = byPort.get(port)
    if (client === undefined) {
      client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 100 })
      client.on('error', () => {})
      clients.add(client)
      byPort.set(port, client)
    }
    return client
  }
  for (const { port } of nodes) {
    const probe = node(port)
    for (let i = 0; ; i++) {
      try {
        await probe.ping()
        break
      } catch (err) {
        if (i > 100) throw err
        await sleep(50)
      }
    }
  }
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'])
  const cluster: LocalCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    node,
    kill: async (port) => {
      const target = nodes.find((n) => n.port === port)
      if (target === undefined || !alive(target)) return
      const exited = new Promise((resolve) => target.process.once('exit', resolve))
      target.process.kill('SIGKILL')
      await exited
    },
    masterOf: async (key) => {
      const admin = node(nodes.find((n) => alive(n))!.port)
      const slot = await admin.cluster('KEYSLOT', key) as number
      const shards = await admin.cluster('SLOTS')
      const owner = shards.find(([from, to]) => slot >= from && slot <= to)
      return owner![2]![1]
    },
    replicated: async (port) => {
      const admin = node(port)
      for (let i = 0; ; i++) {
        const info = await admin.info('replication')
        const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1])
        const replicas = [...info.matchAll(/slave\d+:.*state=(\w+),offset=(\d+)/g)]
        if (replicas.length > 0 && replicas.every(([, state, at]) => state === 'online' && Number(at) >= offset)) return
        if (i > 400) throw new Error(`the replicas of ${port} did not catch up`)
        await sleep(50)
      }
    },
    moveSlot: async (key, toPort) => {
      const fromPort = await cluster.masterOf(key)
      if (fromPort === toPort) return
      const from = node(fromPort)
      const to = node(toPort)
      const slot = await from.cluster('KEYSLOT', key) as number
      const fromId = await from.cluster('MYID') as string
      const toId = await to.cluster('MYID') as string
      await to.cluster('SETSLOT', slot, 'IMPORTING', fromId)
      await from.cluster('SETSLOT', slot, 'MIGRATING', toId)
      for (;;) {
        const keys = await from.cluster('GETKEYSINSLOT', slot, 100) as string[]
        if (keys.length === 0) break
        await from.migrate('127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys)
      }
      // The new owner first, then the old one, then everyone else (replicas refuse: fine).
      const order = [toPort, fromPort, ...nodes.map((n) => n.port).filter((p) => p !== toPort && p !== fromPort)]
      for (const port of order) {
        if (!alive(nodes.find((n) => n.port === port)!)) continue
        await node(port).cluster('SETSLOT', slot, 'NODE', toId).catch(() => undefined)
      }
      await cluster.ready()
    },
    ready: async (ports = nodes.filter((n) => alive(n)).map((n) => n.port)) => {
      for (let i = 0; ; i++) {
        const states = await Promise.all(ports.map(async (port) => {
          try {
            return /cluster_state:ok/.test(await node(port).cluster('INFO') as string)
          } catch {
            return false
          }
        }))
        if (states.every(Boolean)) return
        if (i > 400) throw new Error('the local Redis Cluster did not become ready')
        await sleep(50)
      }
    },
  }
  await cluster.ready()
  return cluster
}

const testTimings: RedisAdapterOptions = { heartbeatIntervalMs: 200, instanceTimeoutMs: 1000, retryStrategy: () => 50, closeTimeoutMs: 500 }

/** A RedisAdapter on `cluster`, with fast test timings unless overridden. */
export function clusterAdapter (cluster: LocalCluster, options: RedisAdapterOptions = {}): RedisAdapter {
  return new RedisAdapter({ clusterNodes: cluster.urls, ...testTimings, ...options })
}

/**
 * A RedisAdapter that reaches every node of `cluster` through its own TCP proxy (ioredis
 * `natMap`), so `crash()` cuts it off as Redis sees a dead process: connections gone, no cleanup.
 */
export async function crashableClusterAdapter (t: Tap, cluster: LocalCluster, options: RedisAdapterOptions = {}): Promise<{ adapter: RedisAdapter, crash: () => Promise<void> }> {
  const proxies: RedisProxy[] = []
  const natMap: Record<string, { host: string, port: number }> = {}
  for (const node of cluster.nodes) {
    const proxy = new RedisProxy({ target: { host: '127.0.0.1', port: node.port } })
    await proxy.up()
    t.teardown(() => proxy.down())
    proxies.push(proxy)
    natMap[`127.0.0.1:${node.port}`] = proxy.address
  }
  const adapter = new RedisAdapter({
    clusterNodes: proxies.map(({ address }) => `redis://${address.host}:${address.port}`),
    clusterOptions: { natMap },
    ...testTimings,
    ...options,
  })
  return { adapter, crash: async () => { await Promise.all(proxies.map((proxy) => proxy.down())) } }
}
