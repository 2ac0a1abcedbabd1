/** Options of the Redis adapter: their documented defaults, and the check that fails fast. */
import type { ClusterOptions, RedisOptions } from 'ioredis'
import { invalidOption } from '../errors.js'
import { checkClusterSupport, installedIoredisVersion } from './ioredis-version.js'

export interface RedisAdapterOptions {
  /**
   * Redis connection URL (`redis://`, `rediss://` for TLS; credentials and db in the URL).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /**
   * Extra ioredis options (TLS, username/password…), for every connection (on Redis Cluster: to
   * each node). Sentinel: `{ sentinels: [{ host, port }], name: 'mymaster' }` — the adapter then
   * follows the master Sentinel names through failovers (`url` gives only credentials and db).
   * The adapter's own settings for the offline queue, retries, resubscription and timeouts take
   * precedence.
   * @default {}
   */
  redisOptions?: RedisOptions
  /**
   * Run on Redis Cluster (Redis ≥ 7): a few of its nodes' URLs, from which the client discovers
   * the rest (`url` is then not used). Every script touches one slot (a room's keys share the hash
   * tag `{r:<room>}`), and room and user channels use sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`),
   * re-subscribed after failovers and slot migrations.
   * @default undefined (one Redis at `url`)
   */
  clusterNodes?: readonly string[]
  /**
   * Extra ioredis Cluster options (`natMap`, `dnsLookup`, `slotsRefreshTimeout`…), with
   * `clusterNodes`. Per-node connection options go in `redisOptions`.
   * @default {}
   */
  clusterOptions?: ClusterOptions
  /**
   * Prefix of every key, channel and connection name, so several apps (or test runs) share one
   * Redis. Must not contain braces or whitespace.
   * @default 'ws:'
   */
  keyPrefix?: string
  /**
   * Durable messages kept per room for recovery (Redis Stream `MAXLEN ~`, so a little more may be
   * kept). `0` keeps no history: `seq` still counts, recovery then only succeeds when nothing was missed.
   * @default 1000
   */
  historySize?: number
  /**
   * How long (ms) a durable message stays recoverable (`MINID ~` trim on write, checked on read).
   * @default 300000 (5 minutes)
   */
  historyTtlMs?: number
  /**
   * How long (ms) a silent room keeps its `seq` counter; after that its numbering restarts at 1.
   * Must be at least `historyTtlMs`.
   * @default 604800000 (7 days)
   */
  sequenceTtlMs?: number
  /**
   * How often (ms) this instance proves it is alive and looks for dead instances.
   * @default 5000
   */
  heartbeatIntervalMs?: number
  /**
   * An instance silent this long (ms) is dead: its members are removed and `user_left` is sent.
   * Members of a dead instance are gone within `instanceTimeoutMs + heartbeatIntervalMs`.
   * Must be at least twice `heartbeatIntervalMs`.
   * @default 15000
   */
  instanceTimeoutMs?: number
  /**
   * A Redis command not answered within this time (ms) fails, and the adapter falls back as
   * during an outage.
   * @default 2000
   */
  commandTimeoutMs?: number
  /**
   * Bound (ms) on each step of `close()`: removing this instance's presence, then quitting.
   * @default 2000
   */
  closeTimeoutMs?: number
  /**
   * Delay (ms) before reconnect attempt `attempt` (1, 2, …). Reconnection never gives up.
   * @default defaultRedisRetryStrategy (exponential from 50 ms up to 2 s, with jitter)
   */
  retryStrategy?: (attempt: number) => number
}

/** Exponential backoff from 50 ms, capped at 2 s, with ±25 % jitter so instances spread out. */
export function defaultRedisRetryStrategy (attempt: number): number {
  const base = Math.min(50 * 2 ** Math.max(0, attempt - 1), 2000)
  return Math.round(base * (0.75 + Math.random() / 2))
}

export type ResolvedRedisOptions = Required<Omit<RedisAdapterOptions, 'redisOptions' | 'clusterNodes' | 'clusterOptions'>> & {
  redisOptions: RedisOptions
  clusterNodes: readonly string[] | undefined
  clusterOptions: ClusterOptions
}

function integer (name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalidOption(name, `an integer ≥ ${min}`, value)
  return value
}

export function resolveRedisOptions (options: RedisAdapterOptions): ResolvedRedisOptions {
  const url = options.url ?? 'redis://127.0.0.1:6379'
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw invalidOption('url', 'a redis:// or rediss:// URL', options.url)
  const keyPrefix = options.keyPrefix ?? 'ws:'
  if (typeof keyPrefix !== 'string' || /[{}\s]/.test(keyPrefix)) throw invalidOption('keyPrefix', 'a string without braces or spaces', keyPrefix)
  const redisOptions = options.redisOptions ?? {}
  if (typeof redisOptions !== 'object' || redisOptions === null) throw invalidOption('redisOptions', 'an object of ioredis options', redisOptions)
  const clusterNodes = options.clusterNodes
  if (clusterNodes !== undefined && (!Array.isArray(clusterNodes) || clusterNodes.length === 0 || !clusterNodes.every((node) => typeof node === 'string' && /^rediss?:\/\//.test(node)))) {
    throw invalidOption('clusterNodes', 'a non-empty array of redis:// or rediss:// URLs', clusterNodes)
  }
  // At construction: a failure while connecting would only look like an unreachable cluster.
  if (clusterNodes !== undefined) checkClusterSupport(installedIoredisVersion())
  const clusterOptions = options.clusterOptions ?? {}
  if (typeof clusterOptions !== 'object' || clusterOptions === null) throw invalidOption('clusterOptions', 'an object of ioredis Cluster options', clusterOptions)
  if (options.retryStrategy !== undefined && typeof options.retryStrategy !== 'function') throw invalidOption('retryStrategy', 'a function', options.retryStrategy)
  const historyTtlMs = integer('historyTtlMs', options.historyTtlMs, 300_000, 1)
  const heartbeatIntervalMs = integer('heartbeatIntervalMs', options.heartbeatIntervalMs, 5000, 1)
  return {
    url,
    keyPrefix,
    redisOptions,
    clusterNodes,
    clusterOptions,
    historySize: integer('historySize', options.historySize, 1000, 0),
    historyTtlMs,
    sequenceTtlMs: integer('sequenceTtlMs', options.sequenceTtlMs, 7 * 24 * 3600_000, historyTtlMs),
    heartbeatIntervalMs,
    instanceTimeoutMs: integer('instanceTimeoutMs', options.instanceTimeoutMs, 15_000, 2 * heartbeatIntervalMs),
    commandTimeoutMs: integer('commandTimeoutMs', options.commandTimeoutMs, 2000, 1),
    closeTimeoutMs: integer('closeTimeoutMs', options.closeTimeoutMs, 2000, 1),
    retryStrategy: options.retryStrategy ?? defaultRedisRetryStrategy,
  }
}
