import t from 'tap'
import { recoverySuite } from './adapter-compliance.js'
import { buildApp } from './helpers/index.js'
import { useRedis } from './helpers/redis.js'

const redis = await useRedis(t)
if (redis !== undefined) {
  recoverySuite(t, async (t, count, options) => {
    // A prefix per test: its instances share a cluster, and no other test sees it.
    const keyPrefix = `${redis.prefix}${Math.random().toString(36).slice(2, 8)}:`
    const apps = []
    for (let i = 0; i < count; i++) apps.push(await buildApp(t, { adapter: redis.adapter({ ...options, keyPrefix }), rateLimit: false }))
    return apps
  })
}
