import t from 'tap'
import type { Adapter } from '../plugin.js'
import { BatchingHost, RecordingHost } from './adapter-compliance.js'
import { RedisProxy, useRedis, type RedisTestContext } from './helpers/redis.js'

const redis = await useRedis(t)

/** Memberships on a big instance: `count` users spread over `rooms` rooms. */
const MEMBERSHIPS = 3000
const ROOMS = 600
/** Added latency each way of the slow Redis: a round trip costs 80 ms, so one per membership would take minutes. */
const SLOW_MS = 40

interface Node { adapter: Adapter, host: RecordingHost, proxy: RedisProxy }

async function node (t: any, ctx: RedisTestContext, keyPrefix: string, closeTimeoutMs = 2000, host = new RecordingHost()): Promise<Node> {
  const proxy = new RedisProxy()
  await proxy.up()
  t.teardown(() => proxy.down())
  const adapter = ctx.adapter({ keyPrefix, url: proxy.url, closeTimeoutMs })
  await adapter.init(host)
  t.teardown(() => adapter.close())
  return { adapter, host, proxy }
}

async function fill (adapter: Adapter, tag: string): Promise<void> {
  const pending = []
  for (let i = 0; i < MEMBERSHIPS; i++) pending.push(adapter.addMember(`big${i % ROOMS}`, `${tag}${i}`, `${tag}c${i}`))
  await Promise.all(pending)
}

/** Connections recorded in the big rooms, cluster-wide. */
async function bigRoomConnections (ctx: RedisTestContext, keyPrefix: string): Promise<number> {
  const pipeline = ctx.admin.pipeline()
  for (let r = 0; r < ROOMS; r++) pipeline.hlen(`${keyPrefix}{r:big${r}}:conns`)
  const replies = await pipeline.exec()
  return (replies ?? []).reduce((sum, [, n]) => sum + Number(n), 0)
}

async function eventually (check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const prefixOf = (ctx: RedisTestContext): string => `${ctx.prefix}${Math.random().toString(36).slice(2, 8)}:`

if (redis !== undefined) {
  t.test('a survivor reaping thousands of memberships through a slow Redis keeps beating: nobody presumes it dead', async (t) => {
    const keyPrefix = prefixOf(redis)
    const a = await node(t, redis, keyPrefix)
    const dead = await node(t, redis, keyPrefix)
    await a.adapter.addMember('watch', 'alice', 'a1')
    await fill(dead.adapter, 'd')
    t.equal(await bigRoomConnections(redis, keyPrefix), MEMBERSHIPS)

    a.proxy.delayMs = SLOW_MS
    await dead.proxy.down()
    const deadId = dead.host.instanceId
    t.ok(await eventually(async () => await redis.admin.zscore(`${keyPrefix}{instances}:reaping`, deadId) !== null, 5000), 'A claimed the dead instance')
    // B arrives while A reaps; were A's heartbeat stuck behind the reap, B would reap A.
    const b = await node(t, redis, keyPrefix)
    await b.adapter.addMember('watch', 'bob', 'b1')
    t.ok(await eventually(async () => await bigRoomConnections(redis, keyPrefix) === 0, 20_000), 'every membership of the dead instance is gone')
    t.ok(await eventually(() => a.host.left.length === MEMBERSHIPS, 5000), 'A reported each user who left with it')
    // Give B a full instance timeout to (wrongly) declare A dead.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    t.same(b.host.left, [], 'B never presumed A dead')
    t.same((await b.adapter.members('watch')).sort(), ['alice', 'bob'], 'alice, on A, is still present')
    t.equal(await redis.admin.exists(`${keyPrefix}instance:${deadId}`), 0, 'nothing left of the dead instance')
    t.equal(await redis.admin.zcard(`${keyPrefix}{instances}:reaping`), 0, 'and the claim is done')
  })

  t.test('a close() cut short by its timeout leaves no member behind: a survivor removes the rest', async (t) => {
    const keyPrefix = prefixOf(redis)
    const closing = await node(t, redis, keyPrefix, 100)
    const b = await node(t, redis, keyPrefix)
    await fill(closing.adapter, 'c')
    closing.proxy.delayMs = SLOW_MS
    await closing.adapter.close()
    t.ok(await bigRoomConnections(redis, keyPrefix) > 0, 'the close timed out before removing everything')
    t.ok(await eventually(async () => await bigRoomConnections(redis, keyPrefix) === 0, 20_000), 'a survivor removed what the close left')
    t.ok(await eventually(async () => await redis.admin.exists(`${keyPrefix}instance:${closing.host.instanceId}`) === 0, 5000), 'nothing left of the closed instance')
    // Reported in one batch once the whole instance is removed (its last records a round trip after the rooms).
    t.ok(await eventually(() => b.host.left.length > 0, 5000), 'and the survivor reported the users who left')
  })

  t.test('a close() announces the departures it makes itself in one batch through the host, published before its connection closes', async (t) => {
    const keyPrefix = prefixOf(redis)
    const b = await node(t, redis, keyPrefix)
    await b.adapter.addMember('watch', 'bob', 'b1')
    const host = new BatchingHost('watch')
    const closing = await node(t, redis, keyPrefix, 10_000, host)
    host.adapter = closing.adapter
    await fill(closing.adapter, 'c')
    closing.proxy.delayMs = SLOW_MS
    await closing.adapter.close()
    t.equal(await bigRoomConnections(redis, keyPrefix), 0, 'the close removed every membership')
    t.equal(host.batches.length, 1, 'one batch for all of them')
    t.equal(host.batches[0]!.length, MEMBERSHIPS, 'every user who left')
    t.same(host.left, [], 'none announced one by one')
    await b.host.until(() => b.host.rooms.some((frame) => frame.room === 'watch'), 'the announcement reaches the survivor')
    t.same(JSON.parse(b.host.rooms.find((frame) => frame.room === 'watch')!.data as unknown as string), { type: 'member_count', room: 'watch', payload: { memberCount: MEMBERSHIPS } },
      'published through Redis while the closing instance was still connected')
  })

  t.test('after Redis lost its data, an instance with thousands of memberships re-registers them through a slow Redis in a few round trips', async (t) => {
    const keyPrefix = prefixOf(redis)
    const a = await node(t, redis, keyPrefix)
    const b = await node(t, redis, keyPrefix)
    await b.adapter.addMember('watch', 'bob', 'b1')
    await fill(a.adapter, 'a')
    a.proxy.delayMs = SLOW_MS
    const keys = await redis.admin.keys(`${keyPrefix}*`)
    await redis.admin.del(...keys)
    t.ok(await redis.killClients(`${keyPrefix}${a.host.instanceId}`) >= 1)
    t.ok(await eventually(async () => await bigRoomConnections(redis, keyPrefix) === MEMBERSHIPS, 20_000), 'every membership is back')
    t.equal(await redis.admin.scard(`${keyPrefix}instance:${a.host.instanceId}`), MEMBERSHIPS, 'and recorded for its instance')
    t.same(a.host.left, [], 'no one on A was reported gone')
  })
}

if (redis !== undefined) {
  t.test('a durable publish whose reply a stalled Redis held past the command timeout ran once; its retry with the same idempotency key is not a duplicate', async (t) => {
    const keyPrefix = prefixOf(redis)
    const a = await node(t, redis, keyPrefix)
    const b = await node(t, redis, keyPrefix)
    await b.adapter.addMember('r', 'bob', 'b1')
    await a.adapter.addMember('r', 'alice', 'a1')
    const stalled = redis.adapter({ keyPrefix, url: a.proxy.url, commandTimeoutMs: 200 })
    await stalled.init(new RecordingHost())
    t.teardown(() => stalled.close())
    const publish = (): Promise<number | undefined> | number | undefined =>
      stalled.publishToRoom({ room: 'r', frame: { head: '{"type":"message","room":"r"', tail: ',"payload":{"content":"once"}}' }, durable: true, except: undefined, idempotencyKey: 'alice:42' })
    a.proxy.stall()
    await t.rejects(async () => await publish(), { code: 'unavailable' }, 'the attempt timed out: its outcome is unknown to the sender')
    await b.host.until(() => b.host.rooms.length === 1, 'the timed-out attempt, delivered all the same')
    a.proxy.resume()
    t.equal(await publish(), 1, 'the retry answers the seq the first attempt got')
    t.equal(await b.adapter.lastSeq('r'), 1, 'sequenced once')
    await b.adapter.publishToRoom({ room: 'r', frame: { head: '{"type":"message","room":"r"', tail: ',"payload":{"content":"next"}}' }, durable: true, except: undefined })
    await b.host.until(() => b.host.rooms.length >= 2, 'the next message')
    t.same(b.host.rooms.map((d) => d.seq), [1, 2], 'no duplicate between them')
  })
}
