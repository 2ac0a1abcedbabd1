/**
 * The deployment the chaos run breaks: its own `redis-server` (restartable, data lost on restart),
 * N instances as child processes (bench/chaos/server.ts), each reaching Redis through its own TCP
 * proxy (to cut that link), and one round-robin TCP load balancer in front of the instances that
 * the clients connect to (to cut clients off an instance; a reconnect lands on another one).
 * Reuses the test helpers: `useOwnRedis`, `RedisProxy`, `startProxy`, `freePort`.
 */
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Peer } from '../ipc.js'
import { freePort } from '../../test/helpers/redis-cluster.js'
import { RedisProxy } from '../../test/helpers/redis.js'
import { useOwnRedis, type OwnRedis } from '../../test/helpers/redis-server.js'
import { startProxy, type Proxy } from '../../test/helpers/sdk.js'
import type { ChaosServerConfig, Probe } from './server.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')

/** What the helpers need of a test: teardown (and, for a missing redis-server, fail/plan/comment). */
export interface Tap {
  teardown(fn: () => unknown): void
  fail(message: string): unknown
  plan(n: number, reason?: string): void
  comment(...message: unknown[]): void
}

export interface Instance {
  readonly index: number
  readonly port: number
  readonly redisProxy: RedisProxy
  peer: Peer | undefined
  /** Probe taken when this process was ready (before any client of its own). */
  startProbe: Probe | undefined
  starts: number
}

export interface ClusterOptions {
  instances: number
  secret: string
  heartbeatIntervalMs: number
  instanceTimeoutMs: number
  /** Leave the instances' logs behind (the CLI); otherwise removed at teardown. */
  keepLogs: boolean
}

export class ChaosCluster {
  readonly instances: Instance[] = []
  /** Each instance's log (warnings and errors, every start appended): instance-N.log. */
  readonly logDir = mkdtempSync(join(tmpdir(), 'fastify-ws-rooms-chaos-'))
  private next = 0
  private stopped = false

  private constructor (
    readonly redis: OwnRedis,
    readonly balancer: Proxy,
    private readonly options: ClusterOptions,
    private readonly keyPrefix: string,
  ) {}

  /** Undefined when redis-server is missing (the test is then skipped, or failed under CI). */
  static async start (t: Tap, options: ClusterOptions): Promise<ChaosCluster | undefined> {
    const redis = await useOwnRedis(t)
    if (redis === undefined) return undefined
    let cluster: ChaosCluster | undefined
    // Round robin over the instances that are up; a connection to a dead one fails (the client retries).
    const balancer = await startProxy(t, () => cluster!.pick())
    cluster = new ChaosCluster(redis, balancer, options, `chaos${Date.now().toString(36)}:`)
    t.teardown(async () => {
      await cluster!.stop()
      if (!options.keepLogs) await rm(cluster!.logDir, { recursive: true, force: true })
    })
    for (let i = 0; i < options.instances; i++) {
      const redisProxy = new RedisProxy({ target: { host: '127.0.0.1', port: redis.port } })
      await redisProxy.up()
      cluster.instances.push({ index: i, port: await freePort(), redisProxy, peer: undefined, startProbe: undefined, starts: 0 })
    }
    await Promise.all(cluster.instances.map((instance) => cluster!.launch(instance)))
    return cluster
  }

  get url (): string {
    return `ws://127.0.0.1:${this.balancer.port}/ws`
  }

  private up (instance: Instance): boolean {
    const child = instance.peer?.child
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }

  /** The next instance that is up (all down: the first, whose connection then fails). */
  private pick (): number {
    for (let i = 0; i < this.instances.length; i++) {
      const instance = this.instances[(this.next++) % this.instances.length]!
      if (this.up(instance)) return instance.port
    }
    return this.instances[0]!.port
  }

  /** Start (or restart) an instance's process; resolves once it listens and has taken its start probe. */
  async launch (instance: Instance): Promise<void> {
    const config: ChaosServerConfig = {
      port: instance.port,
      redisUrl: instance.redisProxy.url,
      keyPrefix: this.keyPrefix,
      secret: this.options.secret,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      instanceTimeoutMs: this.options.instanceTimeoutMs,
    }
    const logFile = openSync(join(this.logDir, `instance-${instance.index}.log`), 'a')
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'server.ts'), JSON.stringify(config)],
      { cwd: root, stdio: ['ignore', logFile, logFile, 'ipc'] })
    closeSync(logFile)
    const peer = new Peer(`instance ${instance.index}`, child)
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code, signal) => reject(new Error(`instance ${instance.index} exited while starting (${String(code ?? signal)})`)))
    })
    await ready
    instance.peer = peer
    instance.starts++
    instance.startProbe = await peer.call<Probe>('probe', undefined, 30_000)
  }

  /** `kill -9`: no close frame, no cleanup; its members stay in Redis until a survivor reaps them. */
  async kill (instance: Instance): Promise<void> {
    const peer = instance.peer
    if (peer === undefined || !this.up(instance)) return
    peer.child.kill('SIGKILL')
    await peer.exited
  }

  /** A deploy: SIGTERM, the instance closes every socket with 1001 and exits (killed if it hangs). */
  async terminate (instance: Instance): Promise<void> {
    const peer = instance.peer
    if (peer === undefined || !this.up(instance)) return
    peer.child.kill('SIGTERM')
    const killer = setTimeout(() => peer.child.kill('SIGKILL'), 15_000)
    await peer.exited
    clearTimeout(killer)
  }

  /** Ask every instance that is up; all of them must answer. */
  async each<T> (cmd: string, args?: unknown): Promise<T[]> {
    return await Promise.all(this.instances.map(async (instance) => {
      if (instance.peer === undefined || !this.up(instance)) throw new Error(`instance ${instance.index} is down`)
      return await instance.peer.call<T>(cmd, args, 30_000)
    }))
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.instances.map(async (instance) => {
      if (instance.peer !== undefined) await instance.peer.stop()
      await instance.redisProxy.down()
    }))
  }
}
