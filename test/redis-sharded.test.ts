import t from 'tap'
import type { Adapter } from '../plugin.js'
import { adapterCompliance } from './adapter-compliance.js'
import { multiInstanceCompliance } from './adapter-cluster-compliance.js'
import { clusterAdapter, crashableClusterAdapter, useLocalCluster } from './helpers/redis-cluster.js'

// One local Redis Cluster (three masters) for the file; each test's instances share their own key prefix.
const cluster = await useLocalCluster(t)
if (cluster !== undefined) {
  const keyPrefix = (): string => `ws${Math.random().toString(36).slice(2, 8)}:`
  t.test('one instance on Redis Cluster', async (t) => {
    adapterCompliance(t, (options) => clusterAdapter(cluster, { ...options, keyPrefix: keyPrefix() }))
  })
  t.test('instances sharing one Redis Cluster', async (t) => {
    multiInstanceCompliance(t, (t) => {
      const prefix = keyPrefix()
      const crashes = new Map<Adapter, () => Promise<void>>()
      return {
        instance: async () => {
          const { adapter, crash } = await crashableClusterAdapter(t, cluster, { keyPrefix: prefix })
          crashes.set(adapter, crash)
          return adapter
        },
        crash: async (adapter) => { await crashes.get(adapter)?.() },
      }
    })
  })
}
