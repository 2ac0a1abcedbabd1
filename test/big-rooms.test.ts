import t, { type Test } from 'tap'
import { buildApp, connect, joined, until, type TestApp, type TestClient } from './helpers/index.js'
import { RedisProxy, useRedis } from './helpers/redis.js'

/** Connect `userIds` and join them to `room` one after the other. */
async function joinAll (t: Parameters<typeof connect>[0], server: TestApp, room: string, userIds: string[]): Promise<TestClient[]> {
  const clients: TestClient[] = []
  for (const userId of userIds) {
    const client = await connect(t, server, userId)
    await joined(client, room)
    clients.push(client)
  }
  return clients
}

/** A payload without its presence version (test/presence-order.test.ts checks it). */
function bare ({ version: _version, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest
}

t.test('room_joined lists at most presence.listLimit members and always counts them all', async (t) => {
  const server = await buildApp(t, { presence: { listLimit: 3 } })
  await joinAll(t, server, 'lobby', ['u1', 'u2', 'u3', 'u4'])
  const late = await connect(t, server, 'u5')
  const reply = await joined(late, 'lobby')
  t.equal(reply.payload.memberCount, 5)
  t.equal(reply.payload.members.length, 3, 'the list is capped')
  t.ok(reply.payload.members.every((userId: string) => ['u1', 'u2', 'u3', 'u4', 'u5'].includes(userId)), 'listed users are members')
  t.equal(new Set(reply.payload.members).size, 3, 'distinct users')
  const small = await connect(t, server, 'u6')
  const { epoch: _epoch, version: _version, ...quiet } = (await joined(small, 'quiet')).payload
  t.same(quiet, { room: 'quiet', members: ['u6'], memberCount: 1, seq: 0 }, 'a small room lists everyone')
})

t.test('above the limit arrivals and departures are not announced; one member_count marks each crossing', async (t) => {
  const server = await buildApp(t, { presence: { listLimit: 3 } })
  const [u1] = await joinAll(t, server, 'lobby', ['u1'])
  const [, u3] = await joinAll(t, server, 'lobby', ['u2', 'u3'])
  t.same(bare((await u1!.waitFor('user_joined')).payload), { userId: 'u2' })
  t.same(bare((await u1!.waitFor('user_joined')).payload), { userId: 'u3' }, 'up to the limit every arrival is announced')

  const [u4] = await joinAll(t, server, 'lobby', ['u4'])
  const crossing = await u1!.waitFor('member_count')
  t.same(crossing.payload, { memberCount: 4 }, 'the arrival that takes the room over the limit is counted, not named')
  t.equal(crossing.room, 'lobby')
  t.notOk('seq' in crossing, 'ephemeral')
  t.ok(await u4!.expectNone('member_count'), 'the joiner has the count in its reply')

  const [u5] = await joinAll(t, server, 'lobby', ['u5'])
  await u5!.request('leave_room', { room: 'lobby' })
  t.ok(await u1!.expectNone('user_joined'), 'no arrival announced above the limit')
  t.ok(await u1!.expectNone('user_left'), 'no departure announced above the limit')
  t.ok(await u1!.expectNone('member_count'), 'no crossing while above')

  await u4!.close()
  t.same((await u1!.waitFor('member_count')).payload, { memberCount: 3 }, 'back at the limit: one count again')
  await u3!.request('leave_room', { room: 'lobby' })
  t.same(bare((await u1!.waitFor('user_left')).payload), { userId: 'u3' }, 'under the limit departures are announced again')
})

t.test('get_members pages through every member once, in user id order', async (t) => {
  const server = await buildApp(t, { presence: { listLimit: 3 } })
  const users = ['u7', 'u3', 'u1', 'u5', 'u2', 'u6', 'u4']
  const [first] = await joinAll(t, server, 'lobby', users)
  const seen: string[] = []
  let after: string | undefined
  for (let i = 0; i < 10; i++) {
    const page = await first!.request('get_members', after === undefined ? { room: 'lobby' } : { room: 'lobby', after })
    t.equal(page.type, 'members_page')
    t.equal(page.payload.memberCount, 7)
    t.ok(page.payload.members.length <= 3, 'a page is at most the list limit')
    seen.push(...page.payload.members)
    after = page.payload.next
    if (after === undefined) break
  }
  t.same(seen, [...users].sort(), 'every member once, sorted')
  const small = await first!.request('get_members', { room: 'lobby', limit: 2, after: 'u2' })
  t.same(bare(small.payload), { room: 'lobby', members: ['u3', 'u4'], memberCount: 7, next: 'u4' })
  const last = await first!.request('get_members', { room: 'lobby', after: 'u6' })
  t.same(bare(last.payload), { room: 'lobby', members: ['u7'], memberCount: 7 }, 'no next on the last page')
  const outsider = await connect(t, server, 'stranger')
  const refused = await outsider.request('get_members', { room: 'lobby' })
  t.equal(refused.payload.code, 'not_in_room', 'only members may list a room')
})

t.test('pages stay sorted and complete while users arrive and leave between pages (the memory adapter keeps its order up to date)', async (t) => {
  const server = await buildApp(t, { rateLimit: false, presence: { listLimit: 2 } })
  const [first] = await joinAll(t, server, 'hall', ['m', 'c', 'x', 'f'])
  const page1 = await first!.request('get_members', { room: 'hall' })
  t.same(bare(page1.payload), { room: 'hall', members: ['c', 'f'], memberCount: 4, next: 'f' })
  const [a, q] = await joinAll(t, server, 'hall', ['a', 'q'])
  const [g] = await joinAll(t, server, 'hall', ['g'])
  await g!.request('leave_room', { room: 'hall' })
  await a!.request('leave_room', { room: 'hall' })
  const page2 = await first!.request('get_members', { room: 'hall', after: 'f' })
  t.same(page2.payload.members, ['m', 'q'], 'an arrival after the cursor is listed in order; one that left is not')
  t.same((await first!.request('get_members', { room: 'hall', after: 'q' })).payload.members, ['x'])
  const all = await first!.request('get_members', { room: 'hall', limit: 2, after: 'b' })
  t.same(all.payload.members, ['c', 'f'], 'the departed "a" is gone from the order')
  t.equal(all.payload.memberCount, 5)
  t.ok(q, 'q is still in the room')
})

t.test('presence.listLimit must be a positive integer', async (t) => {
  await t.rejects(buildApp(t, { presence: { listLimit: 0 } }), { code: 'WS_ERR_INVALID_OPTION', message: /presence\.listLimit/ })
})

const redis = await useRedis(t)
if (redis !== undefined) {
  t.test('on Redis, instances share the count, the capped list, the crossing and the pages', async (t) => {
    const keyPrefix = `${redis.prefix}big:`
    const a = await buildApp(t, { presence: { listLimit: 2 }, adapter: redis.adapter({ keyPrefix }) })
    const b = await buildApp(t, { presence: { listLimit: 2 }, adapter: redis.adapter({ keyPrefix }) })
    const [u1] = await joinAll(t, a, 'lobby', ['u1'])
    await joinAll(t, b, 'lobby', ['u2'])
    t.same(bare((await u1!.waitFor('user_joined')).payload), { userId: 'u2' })
    const [u3] = await joinAll(t, b, 'lobby', ['u3'])
    t.same((await u1!.waitFor('member_count')).payload, { memberCount: 3 }, 'the crossing reaches the other instance')
    const reply = await joined(u3!, 'lobby')
    t.equal(reply.payload.memberCount, 3)
    t.equal(reply.payload.members.length, 2)
    const page1 = await u1!.request('get_members', { room: 'lobby' })
    const page2 = await u1!.request('get_members', { room: 'lobby', after: page1.payload.next })
    t.same([...page1.payload.members, ...page2.payload.members], ['u1', 'u2', 'u3'])
  })

  /**
   * A big room (12 users, listLimit 5: 4 on A, 8 on B) and a small one (2 on A, 2 on B). The
   * observer, on A, joins each room last, so every frame it gets afterwards is caused by B going.
   */
  async function twoInstances (t: Test, viaProxy: boolean): Promise<{ a: TestApp, b: TestApp, observer: TestClient, proxy: RedisProxy }> {
    const keyPrefix = `${redis!.prefix}bigclose${Math.random().toString(36).slice(2, 8)}:`
    const timings = { heartbeatIntervalMs: 200, instanceTimeoutMs: 1000 }
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const presence = { listLimit: 5 }
    const a = await buildApp(t, { presence, adapter: redis!.adapter({ keyPrefix, ...timings }) })
    const b = await buildApp(t, { presence, adapter: redis!.adapter({ keyPrefix, ...timings, ...(viaProxy ? { url: proxy.url, closeTimeoutMs: 300 } : {}) }) })
    const onB = await joinAll(t, b, 'lobby', ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8'])
    for (const client of onB.slice(0, 2)) await joined(client, 'small')
    const onA = await joinAll(t, a, 'lobby', ['a1', 'a2', 'a3'])
    await joined(onA[0]!, 'small')
    const observer = await connect(t, a, 'observer')
    t.equal((await joined(observer, 'lobby')).payload.memberCount, 12)
    t.equal((await joined(observer, 'small')).payload.memberCount, 4)
    return { a, b, observer, proxy }
  }

  /** What the observer got of `room` once B's users are gone (and a moment for stragglers). */
  async function heardOf (observer: TestClient, room: string): Promise<Array<{ type: string, payload: unknown }>> {
    await observer.expectNone('never', 300)
    return observer.pending().filter((frame) => frame.room === room).map(({ type, payload }) => ({ type, payload }))
  }

  const expectBatched = async (t: Test, observer: TestClient, what: string): Promise<void> => {
    await until(() => observer.pending().some((frame) => frame.room === 'small' && frame.type === 'user_left'), 'the departures are announced', 10_000)
    const lobby = await heardOf(observer, 'lobby')
    t.comment(`${what}: the observer got ${lobby.length} frame(s) for the big room (${lobby.filter((f) => f.type === 'user_left').length} user_left)`)
    t.same(lobby, [{ type: 'member_count', payload: { memberCount: 4 } }], 'the big room hears one correct member_count, no user_left')
    const small = await heardOf(observer, 'small')
    t.same(small.map((f) => f.type), ['user_left', 'user_left'], 'the small room hears a user_left for each')
    t.same(small.map((f) => (f.payload as { userId: string }).userId).sort(), ['b1', 'b2'])
  }

  t.test('on Redis, closing an instance: a big room hears one member_count, not a user_left per departed user; a small room a user_left each', async (t) => {
    const { a, b, observer } = await twoInstances(t, false)
    await b.app.close()
    t.equal((await a.app.ws.members('lobby')).length, 4, 'B\'s users are gone')
    await expectBatched(t, observer, 'closing B')
  })

  t.test('on Redis, reaping a dead instance: a big room hears one member_count, not a user_left per departed user; a small room a user_left each', async (t) => {
    const { a, observer, proxy } = await twoInstances(t, true)
    await proxy.down() // B's connection to Redis is cut: to the others it died without cleanup
    await expectBatched(t, observer, 'reaping B')
    t.equal((await a.app.ws.members('lobby')).length, 4)
  })

  t.test('on Redis, pages come from the room\'s sorted set, kept through arrivals and departures and rebuilt when it disagrees', async (t) => {
    const keyPrefix = `${redis.prefix}sorted:`
    const a = await buildApp(t, { rateLimit: false, presence: { listLimit: 2 }, adapter: redis.adapter({ keyPrefix }) })
    const b = await buildApp(t, { rateLimit: false, presence: { listLimit: 2 }, adapter: redis.adapter({ keyPrefix }) })
    const [first] = await joinAll(t, a, 'hall', ['m', 'c'])
    const [x, f] = await joinAll(t, b, 'hall', ['x', 'f'])
    t.same(await redis.admin.zrange(`${keyPrefix}{r:hall}:sorted`, 0, -1), ['c', 'f', 'm', 'x'], 'the index follows the members')
    await x!.request('leave_room', { room: 'hall' })
    await joinAll(t, a, 'hall', ['a'])
    const pages: string[] = []
    let after: string | undefined
    for (let i = 0; i < 5; i++) {
      const page = await first!.request('get_members', after === undefined ? { room: 'hall' } : { room: 'hall', after })
      pages.push(...page.payload.members)
      t.equal(page.payload.memberCount, 4)
      after = page.payload.next
      if (after === undefined) break
    }
    t.same(pages, ['a', 'c', 'f', 'm'])
    // Keys written by a version without the index: the page rebuilds it from the member hash.
    await redis.admin.del(`${keyPrefix}{r:hall}:sorted`)
    t.same(bare((await first!.request('get_members', { room: 'hall', after: 'a' })).payload), { room: 'hall', members: ['c', 'f'], memberCount: 4, next: 'f' })
    t.equal(await redis.admin.zcard(`${keyPrefix}{r:hall}:sorted`), 4, 'rebuilt')
    t.ok(f, 'f stays')
  })
}
