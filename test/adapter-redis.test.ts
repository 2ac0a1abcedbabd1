import t from 'tap'
import type { Adapter } from '../plugin.js'
import { adapterCompliance } from './adapter-compliance.js'
import { multiInstanceCompliance } from './adapter-cluster-compliance.js'
import { RedisProxy, useRedis } from './helpers/redis.js'

const redis = await useRedis(t)
if (redis !== undefined) {
  // Each test gets its own prefix-scoped keys through a fresh adapter on the run's prefix and
  // room names unique to the test, so tests never see each other's rooms.
  const clusterPrefix = (): string => `${redis.prefix}${Math.random().toString(36).slice(2, 8)}:`
  t.test('one instance', async (t) => {
    adapterCompliance(t, (options) => redis.adapter({ ...options, keyPrefix: clusterPrefix() }))
  })
  t.test('instances sharing one Redis', async (t) => {
    multiInstanceCompliance(t, (t) => {
      const keyPrefix = clusterPrefix()
      // Each instance reaches Redis through its own proxy: cutting it is a crash as Redis sees it.
      const proxies = new Map<Adapter, RedisProxy>()
      return {
        instance: async () => {
          const proxy = new RedisProxy()
          await proxy.up()
          t.teardown(() => proxy.down())
          const adapter = redis.adapter({ keyPrefix, url: proxy.url, closeTimeoutMs: 300 })
          proxies.set(adapter, proxy)
          return adapter
        },
        crash: async (adapter) => { await proxies.get(adapter)?.down() },
      }
    })
  })
}
