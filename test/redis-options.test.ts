import t from 'tap'
import { RedisAdapter, defaultRedisRetryStrategy } from '../redis.js'

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
