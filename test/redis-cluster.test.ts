import t from 'tap'
import type { RedisAdapter } from '../redis.js'
import { multiInstanceScenarios, instances, member } from './helpers/redis-scenarios.js'
import { useRedis } from './helpers/redis.js'

const redis = await useRedis(t)

if (redis !== undefined) {
  const makeAdapter = (keyPrefix: string): RedisAdapter => redis.adapter({ keyPrefix: `${redis.prefix}${keyPrefix}` })
  multiInstanceScenarios(t, makeAdapter)

  t.test('an instance subscribes to a room only while it has members there', async (t) => {
    const apps = await instances(t, makeAdapter, 3)
    const prefix = (apps[0]!.app.ws.stats().adapter as { keyPrefix?: string }).keyPrefix
    t.ok(prefix, 'stats name the key prefix')
    const channel = `${prefix}room:{r:r}`
    const subscribers = async (): Promise<number> => Number(((await redis.admin.pubsub('NUMSUB', channel)) as [string, number])[1])
    await member(t, apps[0]!, 'alice', 'r')
    const bob = await member(t, apps[1]!, 'bob', 'r')
    t.equal(await subscribers(), 2, 'instance C, with no member, receives nothing of the room')
    await bob.request('leave_room', { room: 'r' })
    // UNSUBSCRIBE travels on the subscriber connection, not ordered with this reply: poll, bounded.
    let count = await subscribers()
    for (let i = 0; i < 50 && count !== 1; i++) count = await subscribers()
    t.equal(count, 1, 'B unsubscribed when its last member left')
  })
}
