import t from 'tap'
import { adapterCompliance, multiInstanceCompliance } from './adapter-compliance.js'
import { useRedis } from './helpers/redis.js'

const redis = await useRedis(t)
if (redis !== undefined) {
  // Each test gets its own prefix-scoped keys through a fresh adapter on the run's prefix and
  // room names unique to the test, so tests never see each other's rooms.
  const clusterPrefix = (): string => `${redis.prefix}${Math.random().toString(36).slice(2, 8)}:`
  t.test('one instance', async (t) => {
    adapterCompliance(t, (options) => redis.adapter({ ...options, keyPrefix: clusterPrefix() }))
  })
  // Crashing an instance takes a proxy in front of Redis: test/redis-failure.test.ts drills it end to end.
  t.test('instances sharing one Redis', async (t) => {
    multiInstanceCompliance(t, () => {
      const keyPrefix = clusterPrefix()
      return { instance: () => redis.adapter({ keyPrefix }) }
    })
  })
}
