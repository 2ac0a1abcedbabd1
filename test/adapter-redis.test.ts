import t from 'tap'
import { adapterCompliance } from './adapter-compliance.js'
import { useRedis } from './helpers/redis.js'

const redis = await useRedis(t)
if (redis !== undefined) {
  // Each test gets its own prefix-scoped keys through a fresh adapter on the run's prefix and
  // room names unique to the test, so tests never see each other's rooms.
  adapterCompliance(t, (options) => redis.adapter({ ...options, keyPrefix: `${redis.prefix}${Math.random().toString(36).slice(2, 8)}:` }))
}
