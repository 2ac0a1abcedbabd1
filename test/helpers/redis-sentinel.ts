/**
 * A real local Redis Sentinel setup for tests: a master, a replica and one sentinel (quorum 1),
 * each a child process of the test on a free port (files in a temporary folder), so a test can
 * kill the master and watch the sentinel promote the replica. Skipped without `redis-server`
 * (fails under CI).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { freePort, requireRedisBinaries, type Tap } from './redis-cluster.js'

export interface LocalSentinel {
  /** The name the sentinel monitors. */
  readonly name: string
  readonly sentinel: { host: string, port: number }
  masterPort: number
  readonly replicaPort: number
  /** Kill the current master (SIGKILL); resolves once the sentinel reports another master. */
  failover(): Promise<number>
  /** Resolves once the replica has every write of the master. */
  replicated(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function useLocalSentinel (t: Tap): Promise<LocalSentinel | undefined> {
  if (!await requireRedisBinaries(t)) return undefined
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-sentinel-'))
  const children = new Map<number, ChildProcess>()
  const clients: Redis[] = []
  const stopAll = (): void => { for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }
  process.once('exit', stopAll)
  t.teardown(async () => {
    for (const client of clients) client.disconnect()
    const running = [...children.values()].filter((child) => child.exitCode === null && child.signalCode === null)
    stopAll()
    await Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve))))
    process.removeListener('exit', stopAll)
    rmSync(dir, { recursive: true, force: true })
  })
  const client = (port: number): Redis => {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 100 })
    c.on('error', () => {})
    clients.push(c)
    return c
  }
  const answering = async (port: number): Promise<void> => {
    const c = client(port)
    for (let i = 0; ; i++) {
      try {
        await c.ping()
        return
      } catch (err) {
        if (i > 100) throw err
        await sleep(50)
      }
    }
  }
  // Each server works in a folder of its own under `dir`: a replica writes the RDB of every full
  // sync (and a master may too) to its working folder, which would otherwise be the checkout.
  const common = (port: number): string[] => ['--port', String(port), '--dir', mkdtempSync(path.join(dir, `n${port}-`)),
    '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']
  const masterPort = await freePort()
  children.set(masterPort, spawn('redis-server', common(masterPort), { stdio: 'ignore' }))
  await answering(masterPort)
  const replicaPort = await freePort()
  children.set(replicaPort, spawn('redis-server', [...common(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)], { stdio: 'ignore' }))
  await answering(replicaPort)
  const sentinelPort = await freePort()
  const config = path.join(dir, 'sentinel.conf')
  const name = 'wsmaster'
  writeFileSync(config, [
    `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
    `sentinel down-after-milliseconds ${name} 1000`,
    `sentinel failover-timeout ${name} 5000`,
  ].join('\n') + '\n')
  children.set(sentinelPort, spawn('redis-server', [config, '--sentinel', '--loglevel', 'warning'], { stdio: 'ignore' }))
  await answering(sentinelPort)
  const sentinel = client(sentinelPort)
  const reportedMaster = async (): Promise<number> => Number((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as [string, string])[1])
  const setup: LocalSentinel = {
    name,
    sentinel: { host: '127.0.0.1', port: sentinelPort },
    masterPort,
    replicaPort,
    replicated: async () => {
      const master = client(setup.masterPort)
      for (let i = 0; ; i++) {
        const info = await master.info('replication')
        const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1])
        const replicas = [...info.matchAll(/slave\d+:.*state=(\w+),offset=(\d+)/g)]
        if (replicas.length > 0 && replicas.every(([, state, at]) => state === 'online' && Number(at) >= offset)) return
        if (i > 400) throw new Error('the replica did not catch up')
        await sleep(50)
      }
    },
    failover: async () => {
      const old = setup.masterPort
      const child = children.get(old)!
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
      for (let i = 0; ; i++) {
        const now = await reportedMaster()
        if (now !== old) {
          setup.masterPort = now
          await answering(now)
          return now
        }
        if (i > 600) throw new Error('the sentinel did not fail over')
        await sleep(50)
      }
    },
  }
  return setup
}
