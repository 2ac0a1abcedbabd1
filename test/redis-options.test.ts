import t from 'tap'
import { readFileSync } from 'node:fs'
import { RedisAdapter, defaultRedisRetryStrategy } from '../redis.js'
import { checkClusterSupport, installedIoredisVersion, MIN_IOREDIS, MIN_IOREDIS_CLUSTER } from '../lib/adapters/ioredis-version.js'

t.test('bad RedisAdapter options fail at construction with a coded error naming the option', async (t) => {
  const cases: Array<[string, object]> = [
    ['url', { url: 'http://localhost' }],
    ['keyPrefix', { keyPrefix: 'a{b}' }],
    ['historySize', { historySize: -1 }],
    ['sequenceTtlMs', { historyTtlMs: 10_000, sequenceTtlMs: 5000 }],
    ['instanceTimeoutMs', { heartbeatIntervalMs: 1000, instanceTimeoutMs: 1500 }],
    ['retryStrategy', { retryStrategy: 5 }],
  ]
  for (const [option, options] of cases) {
    t.throws(() => new RedisAdapter(options), { code: 'WS_ERR_INVALID_OPTION', message: new RegExp(`"${option}"`) }, option)
  }
})

t.test('the default dead-instance bound is within 30 seconds', async (t) => {
  const { instanceTimeoutMs, heartbeatIntervalMs } = new RedisAdapter().stats() as unknown as { instanceTimeoutMs: number, heartbeatIntervalMs: number }
  t.ok(instanceTimeoutMs + heartbeatIntervalMs <= 30_000)
})

t.test('the default reconnect delay grows from about 50 ms and stays at or under 2.5 s', async (t) => {
  const first = defaultRedisRetryStrategy(1)
  t.ok(first >= 37 && first <= 63, `attempt 1: ${first} ms`)
  for (let attempt = 1; attempt < 100; attempt++) t.ok(defaultRedisRetryStrategy(attempt) <= 2500)
  t.ok(defaultRedisRetryStrategy(10) > defaultRedisRetryStrategy(1))
})

t.test('Redis Cluster on an ioredis older than 5.9.0 is refused with a coded error saying what to install', async (t) => {
  // 5.6–5.8 accept `shardedSubscribers` but lose sharded subscriptions (test/redis-sharded.test.ts fails with them).
  for (const version of ['5.3.0', '5.6.0', '5.8.2']) {
    t.throws(() => checkClusterSupport(version), { code: 'WS_ERR_IOREDIS_VERSION', message: new RegExp(`needs ioredis 5\\.9\\.0 or newer.*ioredis ${version.replaceAll('.', '\\.')} is installed`) }, version)
  }
  for (const version of ['5.9.0', '5.10.1', '5.11.1', '6.0.0']) t.doesNotThrow(() => checkClusterSupport(version), version)
  // The installed one (a dev dependency at the newest 5.x) is accepted: the cluster suites run on it.
  t.doesNotThrow(() => checkClusterSupport(installedIoredisVersion()))
  t.doesNotThrow(() => new RedisAdapter({ clusterNodes: ['redis://127.0.0.1:7000'] }), 'the check runs at construction, and passes')
  t.match(installedIoredisVersion(), /^\d+\.\d+\.\d+/)
})

t.test('the peer range of ioredis starts where one Redis works and the README names each mode\'s minimum', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> }
  t.equal(pkg.peerDependencies.ioredis, `^${MIN_IOREDIS} || ^6.0.0`)
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  t.match(readme, `ioredis ${MIN_IOREDIS}`)
  t.match(readme, `ioredis ${MIN_IOREDIS_CLUSTER}`)
})
