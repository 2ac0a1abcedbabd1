import t from 'tap'
import { buildApp, connect, joined, type TestApp, type TestClient } from './helpers/index.js'
import { useRedis } from './helpers/redis.js'

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
  const { epoch: _epoch, ...quiet } = (await joined(small, 'quiet')).payload
  t.same(quiet, { room: 'quiet', members: ['u6'], memberCount: 1, seq: 0 }, 'a small room lists everyone')
})

t.test('above the limit arrivals and departures are not announced; one member_count marks each crossing', async (t) => {
  const server = await buildApp(t, { presence: { listLimit: 3 } })
  const [u1] = await joinAll(t, server, 'lobby', ['u1'])
  const [, u3] = await joinAll(t, server, 'lobby', ['u2', 'u3'])
  t.same((await u1!.waitFor('user_joined')).payload, { userId: 'u2' })
  t.same((await u1!.waitFor('user_joined')).payload, { userId: 'u3' }, 'up to the limit every arrival is announced')

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
  t.same((await u1!.waitFor('user_left')).payload, { userId: 'u3' }, 'under the limit departures are announced again')
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
  t.same(small.payload, { room: 'lobby', members: ['u3', 'u4'], memberCount: 7, next: 'u4' })
  const last = await first!.request('get_members', { room: 'lobby', after: 'u6' })
  t.same(last.payload, { room: 'lobby', members: ['u7'], memberCount: 7 }, 'no next on the last page')
  const outsider = await connect(t, server, 'stranger')
  const refused = await outsider.request('get_members', { room: 'lobby' })
  t.equal(refused.payload.code, 'not_in_room', 'only members may list a room')
})

t.test('pages stay sorted and complete while users arrive and leave between pages (the memory adapter keeps its order up to date)', async (t) => {
  const server = await buildApp(t, { rateLimit: false, presence: { listLimit: 2 } })
  const [first] = await joinAll(t, server, 'hall', ['m', 'c', 'x', 'f'])
  const page1 = await first!.request('get_members', { room: 'hall' })
  t.same(page1.payload, { room: 'hall', members: ['c', 'f'], memberCount: 4, next: 'f' })
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
    t.same((await u1!.waitFor('user_joined')).payload, { userId: 'u2' })
    const [u3] = await joinAll(t, b, 'lobby', ['u3'])
    t.same((await u1!.waitFor('member_count')).payload, { memberCount: 3 }, 'the crossing reaches the other instance')
    const reply = await joined(u3!, 'lobby')
    t.equal(reply.payload.memberCount, 3)
    t.equal(reply.payload.members.length, 2)
    const page1 = await u1!.request('get_members', { room: 'lobby' })
    const page2 = await u1!.request('get_members', { room: 'lobby', after: page1.payload.next })
    t.same([...page1.payload.members, ...page2.payload.members], ['u1', 'u2', 'u3'])
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
    t.same((await first!.request('get_members', { room: 'hall', after: 'a' })).payload, { room: 'hall', members: ['c', 'f'], memberCount: 4, next: 'f' })
    t.equal(await redis.admin.zcard(`${keyPrefix}{r:hall}:sorted`), 4, 'rebuilt')
    t.ok(f, 'f stays')
  })
}
