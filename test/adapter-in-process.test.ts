import t from 'tap'
import type { ClusterAdapter } from '../plugin.js'
import { multiInstanceCompliance } from './adapter-cluster-compliance.js'
import { adapterCompliance, recoverySuite } from './adapter-compliance.js'
import { buildApp } from './helpers/index.js'
import { InProcessCluster } from './helpers/in-process-cluster.js'

// The seam: ClusterAdapter over an in-process bus and stores, no Redis.
t.test('one instance', async (t) => {
  adapterCompliance(t, (options) => new InProcessCluster(options).adapter())
})

t.test('instances sharing one bus', async (t) => {
  multiInstanceCompliance(t, () => {
    const cluster = new InProcessCluster()
    return { instance: () => cluster.adapter(), crash: (adapter) => cluster.crash(adapter as ClusterAdapter) }
  })
})

t.test('end to end, with real servers and clients', async (t) => {
  recoverySuite(t, async (t, count, options) => {
    const cluster = new InProcessCluster(options)
    const apps = []
    for (let i = 0; i < count; i++) apps.push(await buildApp(t, { adapter: cluster.adapter(), rateLimit: false }))
    return apps
  })
})
