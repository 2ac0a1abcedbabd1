import t from 'tap'
import { Type } from 'typebox'
import { defineProtocol, wsOf } from '../plugin.js'
import type { RedisAdapter, RedisAdapterOptions } from '../redis.js'
import { buildApp, connect, type TestApp, type TestClient } from './helpers/index.js'
import { RedisProxy, useRedis, type RedisTestContext } from './helpers/redis.js'

const protocol = defineProtocol()
  .server('notice', { durable: false, payload: Type.Object({ text: Type.String() }) })

const redis = await useRedis(t)

interface Instance extends TestApp { adapter: RedisAdapter }

function clusterPrefix (ctx: RedisTestContext): string {
  return `${ctx.prefix}${Math.random().toString(36).slice(2, 8)}:`
}

async function instance (t: any, ctx: RedisTestContext, options: RedisAdapterOptions, listLimit?: number): Promise<Instance> {
  const adapter = ctx.adapter(options)
  return { ...await buildApp(t, { protocol, adapter, rateLimit: false, ...(listLimit === undefined ? {} : { presence: { listLimit } }) }), adapter }
}

async function member (t: any, app: TestApp, userId: string, room: string): Promise<TestClient> {
  const client = await connect(t, app, userId)
  const reply = await client.request('join_room', { room })
  if (reply.type !== 'room_joined') throw new Error(`join failed: ${JSON.stringify(reply)}`)
  return client
}

function adapterStats (app: TestApp): Record<string, any> {
  return app.app.ws.stats().adapter as Record<string, any>
}

/** Retry `check` until it returns true; bounded by `timeoutMs`. Returns the last answer. */
async function eventually (check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

if (redis !== undefined) {
  t.test('an instance that dies without cleanup leaves presence within the bound, with user_left for its users', async (t) => {
    const keyPrefix = clusterPrefix(redis)
    const options = { keyPrefix, heartbeatIntervalMs: 200, instanceTimeoutMs: 1000 }
    // C reaches Redis through a proxy: cutting it is a crash as Redis sees it (connections gone,
    // no more heartbeats, no cleanup), without a drill in the production class.
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const [a, b, c] = [await instance(t, redis, options), await instance(t, redis, options), await instance(t, redis, { ...options, url: proxy.url, closeTimeoutMs: 300 })]
    const alice = await member(t, a, 'alice', 'r')
    const bob = await member(t, b, 'bob', 'r')
    await member(t, c, 'carol', 'r')
    await member(t, c, 'bob', 'r')
    t.same((await a.app.ws.members('r')).sort(), ['alice', 'bob', 'carol'])

    await proxy.down()
    const bound = options.instanceTimeoutMs + options.heartbeatIntervalMs
    const left = await alice.waitFor('user_left', bound + 2000)
    t.match(left.payload, { userId: 'carol', version: Number }, 'carol, only on the dead instance, left (at the room\'s presence version of her removal)')
    t.match((await bob.waitFor('user_left', 1000)).payload, { userId: 'carol', version: Number }, 'every surviving member is told')
    t.same((await a.app.ws.members('r')).sort(), ['alice', 'bob'], 'bob stays: he is also on a live instance')
    t.ok(await alice.expectNone('user_left'), 'no user_left for bob')
    t.equal(adapterStats(a).reapedInstances + adapterStats(b).reapedInstances, 1, 'exactly one survivor reaped the dead instance')
  })

  t.test('after CLIENT KILL and lost presence keys, instances reconnect, resynchronise presence and deliver again', async (t) => {
    const keyPrefix = clusterPrefix(redis)
    const [a, b] = [await instance(t, redis, { keyPrefix }), await instance(t, redis, { keyPrefix })]
    const alice = await member(t, a, 'alice', 'r')
    const bob = await member(t, b, 'bob', 'r')
    await bob.request('message', { room: 'r', content: 'before' })
    await alice.waitFor('message')

    // As after a Redis restart without persistence: every key gone, every connection dropped.
    const keys = await redis.admin.keys(`${keyPrefix}*`)
    if (keys.length > 0) await redis.admin.del(...keys)
    t.equal(await redis.killClients(keyPrefix), 4, 'two connections per instance were killed')

    t.ok(await eventually(async () => (await a.app.ws.members('r')).sort().join() === 'alice,bob'), 'presence is back in Redis')
    t.ok(await eventually(async () => (await bob.request('message', { room: 'r', content: 'after' })).type === 'ack'), 'bob can send again')
    const next = await alice.waitFor((frame) => frame.type === 'message' && frame.payload.content === 'after', 3000)
    t.equal(next.seq, 1, 'the room\'s numbering restarted with its lost keys, and the feed followed it')
    t.ok(adapterStats(a).outages >= 1, 'the outage was counted')
    t.equal(adapterStats(a).connected, true)
  })

  t.test('room frames published while an instance\'s subscriber was reconnecting are fetched from history, in order', async (t) => {
    const keyPrefix = clusterPrefix(redis)
    const a = await instance(t, redis, { keyPrefix, retryStrategy: () => 300 })
    const b = await instance(t, redis, { keyPrefix })
    const alice = await member(t, a, 'alice', 'r')
    const bob = await member(t, b, 'bob', 'r')
    await bob.request('message', { room: 'r', content: 'first' })
    const first = await alice.waitFor('message')

    t.equal(await redis.killClients(`${a.app.ws.instanceId}:sub`), 1)
    for (let i = 0; i < 5; i++) await bob.request('message', { room: 'r', content: `during ${i}` })
    const received = []
    for (let i = 0; i < 5; i++) received.push(await alice.waitFor('message', 3000))
    t.same(received.map((m) => m.seq), [1, 2, 3, 4, 5].map((n) => first.seq! + n))
    t.same(received.map((m) => m.payload.content), [0, 1, 2, 3, 4].map((n) => `during ${n}`))
    t.ok(adapterStats(a).gapsFilled >= 1, 'they came from history, not pub/sub')
  })

  t.test('while Redis is unreachable an instance serves its local clients and refuses durable messages; it recovers by itself', async (t) => {
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const keyPrefix = clusterPrefix(redis)
    const a = await instance(t, redis, { keyPrefix, url: proxy.url })
    const b = await instance(t, redis, { keyPrefix })
    const alice = await member(t, a, 'alice', 'r')
    const bob = await member(t, a, 'bob', 'r')
    const carol = await member(t, b, 'carol', 'r')

    await proxy.down()
    t.ok(await eventually(() => adapterStats(a).connected === false), 'stats report the outage')
    t.equal(adapterStats(a).outages, 1)
    t.type(adapterStats(a).outageSince, 'string')

    bob.send('typing', { room: 'r' })
    t.same((await alice.waitFor('typing')).payload, { userId: 'bob' }, 'non-durable frames reach local members')
    t.ok(await carol.expectNone('typing'), 'but not members on other instances')
    const refused = await bob.request('message', { room: 'r', content: 'lost?' })
    t.same([refused.type, refused.payload.code], ['error', 'unavailable'], 'a durable message is refused, not half-delivered')
    await wsOf(a.app, protocol).sendToUser('alice', 'notice', { text: 'local' })
    t.same((await alice.waitFor('notice')).payload, { text: 'local' }, 'sendToUser reaches local connections')
    const dave = await connect(t, a, 'dave')
    const joined = await dave.request('join_room', { room: 'r' })
    t.same(joined.payload.members.sort(), ['alice', 'bob', 'dave'], 'joins work, with the local members')

    await proxy.up()
    t.ok(await eventually(() => adapterStats(a).connected === true), 'reconnected by itself')
    t.ok(await eventually(async () => (await b.app.ws.members('r')).includes('dave')), 'a join made during the outage reaches Redis')
    const announced = await carol.waitFor('user_joined', 3000)
    t.same(announced.payload, { userId: 'dave', version: announced.payload.version }, 'and is announced to other instances')
    t.type(announced.payload.version, 'number', 'with the presence version the resync\'s store step gave it')
    t.ok(await eventually(async () => (await bob.request('message', { room: 'r', content: 'back' })).type === 'ack'))
    t.equal((await carol.waitFor('message', 3000)).payload.content, 'back')
    t.equal((await alice.waitFor('message', 3000)).payload.content, 'back')
  })

  t.test('in a big room, a join made during an outage is not announced to every member after the resync', async (t) => {
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const keyPrefix = clusterPrefix(redis)
    const a = await instance(t, redis, { keyPrefix, url: proxy.url }, 2)
    const b = await instance(t, redis, { keyPrefix }, 2)
    await member(t, a, 'alice', 'big')
    await member(t, a, 'bob', 'big')
    const carol = await member(t, b, 'carol', 'big')
    await carol.expectNone('user_joined', 200)
    carol.frames.length = 0

    await proxy.down()
    t.ok(await eventually(() => adapterStats(a).connected === false))
    await member(t, a, 'dave', 'big')
    await proxy.up()
    t.ok(await eventually(async () => (await b.app.ws.members('big')).includes('dave')), 'the resync records the join')
    t.ok(await carol.expectNone('user_joined', 500), 'above presence.listLimit nobody is told of each arrival, after a resync too')
  })

  t.test('app.close() during an outage finishes', async (t) => {
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const a = await instance(t, redis, { keyPrefix: clusterPrefix(redis), url: proxy.url, closeTimeoutMs: 300 })
    const alice = await member(t, a, 'alice', 'r')
    await proxy.down()
    t.ok(await eventually(() => adapterStats(a).connected === false))
    await t.resolves(a.app.close())
    t.equal((await alice.closed).code, 1001)
  })
}

if (redis !== undefined) {
  t.test('a message refused as unavailable because Redis stalled past the command timeout was sent all the same; resent with its idempotency key it is delivered once', async (t) => {
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const keyPrefix = clusterPrefix(redis)
    const a = await instance(t, redis, { keyPrefix, url: proxy.url, commandTimeoutMs: 300 })
    const b = await instance(t, redis, { keyPrefix })
    const alice = await member(t, a, 'alice', 'r')
    const bob = await member(t, b, 'bob', 'r')
    const payload = { room: 'r', content: 'exactly once', idempotencyKey: 'k-1' }

    proxy.stall()
    const refused = await alice.request('message', payload)
    t.same([refused.type, refused.payload.code], ['error', 'unavailable'], 'the sender cannot know whether it went out')
    t.equal((await bob.waitFor('message', 3000)).payload.content, 'exactly once', 'it did: Redis ran the command')
    proxy.resume()
    t.ok(await eventually(async () => (await alice.request('message', payload)).type === 'ack'), 'the retry is acknowledged')
    await alice.request('message', { room: 'r', content: 'next' })
    const next = await bob.waitFor('message', 3000)
    t.equal(next.payload.content, 'next', 'the retry was not delivered again')
    t.equal(next.seq, 2, 'nor sequenced again')
    const other = await connect(t, b, 'carol')
    await other.request('join_room', { room: 'r' })
    await other.request('message', { room: 'r', content: 'carol\'s own', idempotencyKey: 'k-1' })
    t.equal((await bob.waitFor('message', 3000)).payload.content, 'carol\'s own', 'keys are per user: another user\'s k-1 is another message')
  })
}
