/**
 * Redis for tests: the one place that decides whether Redis tests run.
 *
 * Redis at `REDIS_URL` (default redis://127.0.0.1:6379). Unreachable: with `CI` set the file fails
 * loudly; elsewhere it is skipped with a message naming REDIS_URL. Each call gets a unique key
 * prefix, and its keys are deleted at teardown, so test files can run in parallel on one Redis.
 */
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { Redis } from 'ioredis'
import { RedisAdapter, type RedisAdapterOptions } from '../../redis.js'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Tap {
  teardown(fn: () => unknown): void
  fail(message: string): unknown
  plan(n: number, reason?: string): void
  comment(...message: unknown[]): void
}

export interface RedisTestContext {
  /** A plain client for assertions and drills (CLIENT KILL, key inspection). */
  readonly admin: Redis
  /** Unique to this call: every adapter made with `adapter()` uses it. */
  readonly prefix: string
  /** A RedisAdapter on this test's prefix, with fast timings unless overridden. */
  adapter(options?: RedisAdapterOptions): RedisAdapter
  /** Close the Redis connections of adapters whose connection name contains `marker`. Returns how many. */
  killClients(marker?: string): Promise<number>
}

async function probe (): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  let cause: Error | undefined
  client.on('error', (err: Error) => { cause ??= err })
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (err) {
    const reason = cause ?? err
    return reason instanceof Error ? reason.message : String(reason)
  } finally {
    client.disconnect()
  }
}

/**
 * Call at the top of a Redis test file: `const redis = await useRedis(t); if (redis !== undefined) { … }`.
 * Undefined means the file must register no tests (skipped, or failed under CI).
 */
export async function useRedis (t: Tap): Promise<RedisTestContext | undefined> {
  const problem = await probe()
  if (problem !== undefined) {
    const message = `Redis is unreachable at REDIS_URL=${REDIS_URL} (${problem})`
    if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
      t.fail(`${message}: Redis tests are required when CI is set`)
    } else {
      t.comment(`${message}: skipping Redis tests. Start Redis or set REDIS_URL to run them.`)
      t.plan(0, `no Redis at REDIS_URL=${REDIS_URL}`)
    }
    return undefined
  }
  const prefix = `wstest:${randomUUID().slice(0, 8)}:`
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  t.teardown(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await admin.del(...keys)
      cursor = next
    } while (cursor !== '0')
    await admin.quit()
  })
  return {
    admin,
    prefix,
    adapter: (options = {}) => new RedisAdapter({
      url: REDIS_URL,
      keyPrefix: prefix,
      heartbeatIntervalMs: 200,
      instanceTimeoutMs: 1000,
      retryStrategy: () => 50,
      ...options,
    }),
    killClients: async (marker = '') => {
      const list = await admin.client('LIST') as string
      let killed = 0
      for (const line of list.split('\n')) {
        const id = /(?:^| )id=(\d+)/.exec(line)?.[1]
        const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? ''
        if (id === undefined || !name.startsWith(prefix) || !name.includes(marker)) continue
        killed += Number(await admin.client('KILL', 'ID', id))
      }
      return killed
    },
  }
}

/**
 * A TCP proxy in front of Redis, to cut the network without touching the shared Redis: `down()`
 * drops every connection and refuses new ones; `up()` listens again on the same port. `delayMs`
 * makes Redis answer slowly: every chunk, both ways, is held that long (order kept). `stall()`
 * holds every reply until `resume()` (a Redis that ran the command but whose answer is late).
 */
export class RedisProxy {
  /** Added latency (ms) each way; may be changed while running. */
  delayMs: number
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  private port = 0
  private stalled: Array<() => void> | undefined

  constructor (options: { delayMs?: number, target?: { host: string, port: number } } = {}) {
    this.delayMs = options.delayMs ?? 0
    this.target = options.target
  }

  private readonly target: { host: string, port: number } | undefined

  /** Hold replies (commands still reach Redis and run) until `resume()`. */
  stall (): void {
    this.stalled ??= []
  }

  resume (): void {
    const held = this.stalled ?? []
    this.stalled = undefined
    for (const release of held) release()
  }

  /** Where the proxy listens (after `up()`). */
  get address (): { host: string, port: number } {
    return { host: '127.0.0.1', port: this.port }
  }

  get url (): string {
    const target = new URL(REDIS_URL)
    target.hostname = '127.0.0.1'
    target.port = String(this.port)
    return target.toString()
  }

  async up (): Promise<void> {
    const url = new URL(REDIS_URL)
    const target = this.target ?? { host: url.hostname, port: Number(url.port || 6379) }
    const server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
        socket.on('error', () => {})
      }
      this.relay(client, upstream, false)
      this.relay(upstream, client, true)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as net.AddressInfo).port
    this.server = server
  }

  /** Copy `from` to `to`, delayed by `delayMs`; replies (`isReply`) also wait while stalled. */
  private relay (from: net.Socket, to: net.Socket, isReply: boolean): void {
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      const delay = this.delayMs
      const stalled = isReply ? this.stalled : undefined
      if (delay === 0 && stalled === undefined) {
        chain = chain.then(() => { if (!to.destroyed) to.write(chunk) })
        return
      }
      // Held from its arrival, not after the previous chunk: latency, not a throughput cap.
      const due = Date.now() + delay
      const held = stalled === undefined ? undefined : new Promise<void>((resolve) => stalled.push(resolve))
      chain = chain
        .then(() => held)
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
        .then(() => { if (!to.destroyed) to.write(chunk) })
    })
  }

  async down (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.sockets) socket.destroy()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
