import t from 'tap'
import type { Adapter } from '../plugin.js'
import { clusterAdapter, useLocalCluster } from './helpers/redis-cluster.js'
import { instances, member } from './helpers/redis-scenarios.js'

// Three masters, each with a replica; a node silent for 1 s is failed over.
const cluster = await useLocalCluster(t, { masters: 3, replicas: 1, nodeTimeoutMs: 1000 })

async function eventually (check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

if (cluster !== undefined) {
  t.test('when the master of a room and of the heartbeats dies, its replica takes over: delivery goes on in seq order and nobody is presumed gone', async (t) => {
    const prefix = `ws${Math.random().toString(36).slice(2, 10)}:`
    const makeAdapter = (): Adapter => clusterAdapter(cluster, { keyPrefix: prefix, clusterOptions: { slotsRefreshInterval: 300 } })
    // A room served by the same master as the instances' heartbeats: one failover hits both.
    const liveness = await cluster.masterOf(`${prefix}{instances}`)
    let room = ''
    for (let i = 0; room === ''; i++) if (await cluster.masterOf(`${prefix}{r:room${i}}:seq`) === liveness) room = `room${i}`
    const [a, b] = await instances(t, makeAdapter, 2, prefix)
    const alice = await member(t, a!, 'alice', room)
    const bob = await member(t, b!, 'bob', room)
    t.equal((await bob.request('message', { room, content: 'before' })).type, 'ack')
    t.equal((await alice.waitFor('message')).seq, 1)
    // Replication is asynchronous: make sure the replica has it, so the seq survives the failover.
    await cluster.replicated(liveness)

    await cluster.kill(liveness)
    t.ok(await eventually(async () => await cluster.masterOf(`${prefix}{instances}`).catch(() => liveness) !== liveness, 20_000), 'a replica was promoted')
    const sent: string[] = []
    t.ok(await eventually(async () => {
      const reply = await bob.request('message', { room, content: `after ${sent.length}` })
      if (reply.type === 'ack') sent.push(reply.id!)
      return sent.length === 3
    }, 20_000), 'durable messages are accepted again once the replica serves the slot')
    const received = []
    for (let i = 0; i < 3; i++) received.push(await alice.waitFor('message', 10_000, `message ${i + 1} after the failover`))
    t.same(received.map((m) => m.seq), [2, 3, 4], 'the room\'s seq went on from the replica, in order')
    t.same(received.map((m) => m.payload.content), ['after 0', 'after 1', 'after 2'])
    // Heartbeats could not land during the failover: nobody may be reaped for it.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    t.ok(await alice.expectNone('user_left'), 'alice was not told bob left')
    t.ok(await bob.expectNone('user_left'), 'bob was not told alice left')
    t.same((await a!.app.ws.members(room)).sort(), ['alice', 'bob'], 'both are still members')
  })
}
