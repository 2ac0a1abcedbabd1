import t from 'tap'
import type { Adapter } from '../plugin.js'
import { RedisAdapter } from '../redis.js'
import { useLocalSentinel } from './helpers/redis-sentinel.js'
import { instances, member } from './helpers/redis-scenarios.js'
import type { TestClient } from './helpers/index.js'

// A master, its replica and one sentinel, on free ports; the adapter finds the master through the sentinel.
const sentinel = await useLocalSentinel(t)

async function sendAcked (client: TestClient, room: string, content: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await client.request('message', { room, content })).type === 'ack') return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`"${content}" was never accepted`)
}

if (sentinel !== undefined) {
  t.test('through Sentinel (redisOptions.sentinels), instances share rooms and follow a master failover', async (t) => {
    const makeAdapter = (keyPrefix: string): Adapter => new RedisAdapter({
      keyPrefix,
      redisOptions: { sentinels: [sentinel.sentinel], name: sentinel.name },
      heartbeatIntervalMs: 200,
      instanceTimeoutMs: 1000,
      retryStrategy: () => 100,
    })
    const [a, b] = await instances(t, makeAdapter, 2)
    const alice = await member(t, a!, 'alice', 'r')
    const bob = await member(t, b!, 'bob', 'r')
    t.same((await a!.app.ws.members('r')).sort(), ['alice', 'bob'], 'presence is shared')
    await sendAcked(bob, 'r', 'before')
    t.equal((await alice.waitFor('message')).seq, 1)
    await sentinel.replicated()

    const promoted = await sentinel.failover()
    t.equal(promoted, sentinel.replicaPort, 'the sentinel promoted the replica')
    await sendAcked(bob, 'r', 'after')
    const next = await alice.waitFor('message', 10_000)
    t.same([next.seq, next.payload.content], [2, 'after'], 'the new master carries the room on, in seq order')
    t.same((await b!.app.ws.members('r')).sort(), ['alice', 'bob'], 'presence survived')
  })
}
