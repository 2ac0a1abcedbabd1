import t from 'tap'
import type { Adapter } from '../plugin.js'
import { adapterCompliance, recoverySuite } from './adapter-compliance.js'
import { multiInstanceCompliance } from './adapter-cluster-compliance.js'
import { buildApp } from './helpers/index.js'
import { clusterAdapter, crashableClusterAdapter, useLocalCluster } from './helpers/redis-cluster.js'
import { instances, member, multiInstanceScenarios } from './helpers/redis-scenarios.js'

// One local Redis Cluster (three masters) for the file; each test's instances share their own key prefix.
const cluster = await useLocalCluster(t)
if (cluster !== undefined) {
  const keyPrefix = (): string => `ws${Math.random().toString(36).slice(2, 10)}:`
  const makeAdapter = (prefix: string): Adapter => clusterAdapter(cluster, { keyPrefix: prefix, clusterOptions: { slotsRefreshInterval: 300 } })

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

  t.test('three instances on Redis Cluster, over real sockets', async (t) => {
    multiInstanceScenarios(t, makeAdapter)
  })

  t.test('recovery across instances on Redis Cluster', async (t) => {
    recoverySuite(t, async (t, count, options) => {
      const prefix = keyPrefix()
      const apps = []
      for (let i = 0; i < count; i++) apps.push(await buildApp(t, { adapter: clusterAdapter(cluster, { ...options, keyPrefix: prefix }), rateLimit: false }))
      return apps
    })
  })

  t.test('room frames travel on sharded pub/sub, on the master that owns the room\'s slot only', async (t) => {
    const apps = await instances(t, makeAdapter, 3)
    const prefix = (apps[0]!.app.ws.stats().adapter as { keyPrefix: string }).keyPrefix
    const channel = `${prefix}room:{r:r}`
    const owner = await cluster.masterOf(channel)
    t.equal(owner, await cluster.masterOf(`${prefix}{r:r}:seq`), 'the channel shares the slot of the room\'s keys')
    const alice = await member(t, apps[0]!, 'alice', 'r')
    await member(t, apps[1]!, 'bob', 'r')
    const counts = async (port: number, kind: 'SHARDNUMSUB' | 'NUMSUB'): Promise<number> =>
      Number((await cluster.node(port).call('PUBSUB', kind, channel) as [string, number])[1])
    t.equal(await counts(owner, 'SHARDNUMSUB'), 2, 'the two instances with members subscribe on the owning master')
    for (const { port } of cluster.nodes) {
      if (port !== owner) t.equal(await counts(port, 'SHARDNUMSUB'), 0, `nothing on master ${port}`)
      t.equal(await counts(port, 'NUMSUB'), 0, `no plain pub/sub on ${port}`)
    }
    t.equal((await alice.request('message', { room: 'r', content: 'hi' })).type, 'ack')
  })

  t.test('after the room\'s slot moves to another master, instances subscribe there again and members get every message in order', async (t) => {
    const apps = await instances(t, makeAdapter, 2)
    const prefix = (apps[0]!.app.ws.stats().adapter as { keyPrefix: string }).keyPrefix
    const alice = await member(t, apps[0]!, 'alice', 'moving')
    const bob = await member(t, apps[1]!, 'bob', 'moving')
    t.equal((await bob.request('message', { room: 'moving', content: 'before' })).type, 'ack')
    t.equal((await alice.waitFor('message')).seq, 1)

    const channel = `${prefix}room:{r:moving}`
    const from = await cluster.masterOf(channel)
    const to = cluster.nodes.find((n) => n.port !== from)!.port
    await cluster.moveSlot(channel, to)
    t.equal(await cluster.masterOf(channel), to, 'the slot moved')
    for (let i = 0; i < 5; i++) {
      // Redirected (MOVED) to the new owner; the room's keys moved with the slot, so seq goes on.
      t.equal((await bob.request('message', { room: 'moving', content: `after ${i}` })).type, 'ack')
    }
    const received = []
    for (let i = 0; i < 5; i++) received.push(await alice.waitFor('message', 8000, `message ${i + 1} after the move`))
    t.same(received.map((m) => m.seq), [2, 3, 4, 5, 6], 'every message, in seq order, none lost to the move')
    t.same(received.map((m) => m.payload.content), [0, 1, 2, 3, 4].map((i) => `after ${i}`))
    const subscribed = async (): Promise<number> => Number((await cluster.node(to).pubsub('SHARDNUMSUB', channel) as [string, number])[1])
    for (let i = 0; i < 100 && await subscribed() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    t.equal(await subscribed(), 2, 'both instances subscribe on the new owner')
    t.equal((await bob.request('message', { room: 'moving', content: 'live' })).type, 'ack')
    t.equal((await alice.waitFor('message', 3000)).seq, 7, 'and live delivery goes on from there')
  })
}
