/**
 * Presence state (`defineProtocol().presence(schema)`), seen from real ws clients: per-connection
 * state merged per user (the most recently set one among their connections still in the room),
 * `presence_updated` to the room when it changes, states in every members list, and the server
 * setting it (`app.ws.setPresence`) — on one instance (memory), and on three instances sharing an
 * in-process bus or Redis, where the user's connections sit on different instances.
 */
import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { defineProtocol, WsError, type WsPluginOptions } from '../plugin.js'
import { buildApp, connect, joined, type TestApp, type TestClient } from './helpers/index.js'
import { InProcessCluster } from './helpers/in-process-cluster.js'
import { REDIS_URL, useRedis } from './helpers/redis.js'
import { WsEmitter } from '../emitter.js'

type Tap = Test

const Status = Type.Object({
  status: Type.Union([Type.Literal('online'), Type.Literal('away')]),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
}, { additionalProperties: false })

const protocol = defineProtocol().presence(Status)

type MakeApps = (t: Tap, options?: WsPluginOptions) => Promise<[TestApp, TestApp, TestApp]>

async function connectWithId (t: Tap, target: TestApp, userId: string): Promise<{ client: TestClient, connectionId: string }> {
  const client = await connect(t, target, userId, { awaitConnected: false })
  const connected = await client.waitFor('connected')
  return { client, connectionId: connected.payload.connectionId }
}

async function setPresence (client: TestClient, room: string, state: unknown): Promise<void> {
  const reply = await client.request('set_presence', { room, state })
  if (reply.type !== 'ack') throw new Error(`set_presence failed: ${JSON.stringify(reply)}`)
}

/** The next `presence_updated` of `userId` in `room`. */
async function updateOf (client: TestClient, room: string, userId: string): Promise<unknown> {
  const frame = await client.waitFor((f) => f.type === 'presence_updated' && f.room === room && f.payload.userId === userId, 3000, `presence_updated of ${userId}`)
  return 'state' in frame.payload ? frame.payload.state : 'none'
}

function presenceSuite (tap: Tap, makeApps: MakeApps): void {
  tap.test('a set state reaches the other members and is listed by room_joined and get_members', async (t) => {
    const [a, b, c] = await makeApps(t)
    const alice = await connect(t, a, 'alice')
    const bob = await connect(t, b, 'bob')
    await joined(alice, 'lobby')
    await joined(bob, 'lobby')
    await alice.waitFor('user_joined')

    await setPresence(alice, 'lobby', { status: 'online', name: 'Alice' })
    t.same(await updateOf(bob, 'lobby', 'alice'), { status: 'online', name: 'Alice' }, 'the other member hears it')
    t.same(await updateOf(alice, 'lobby', 'alice'), { status: 'online', name: 'Alice' }, 'the sender hears it too (its other tabs would)')

    const carol = await connect(t, c, 'carol')
    const reply = await joined(carol, 'lobby')
    t.same(reply.payload.presence, { alice: { status: 'online', name: 'Alice' } }, 'room_joined lists states; bob has none')
    const page = await carol.request('get_members', { room: 'lobby' })
    t.same(page.payload.members, ['alice', 'bob', 'carol'])
    t.same(page.payload.presence, { alice: { status: 'online', name: 'Alice' } }, 'members_page lists states')
  })

  tap.test('one user on two connections: the most recent state wins, falls back when it leaves, and is gone with the user', async (t) => {
    const [a, b, c] = await makeApps(t)
    const bob = await connect(t, c, 'bob')
    await joined(bob, 'team')
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')
    await joined(alice1, 'team')
    await joined(alice2, 'team')

    await setPresence(alice1, 'team', { status: 'online' })
    t.same(await updateOf(bob, 'team', 'alice'), { status: 'online' })
    await setPresence(alice2, 'team', { status: 'away' })
    t.same(await updateOf(bob, 'team', 'alice'), { status: 'away' }, 'the most recently set state is the user\'s')
    await setPresence(alice1, 'team', { status: 'away' })
    t.ok(await bob.expectNone('presence_updated', 150), 'the same merged state again: no update')

    await alice1.request('leave_room', { room: 'team' })
    t.ok(await bob.expectNone('presence_updated', 150), 'the connection that set it last is still there: unchanged')

    await joined(alice1, 'team')
    await setPresence(alice1, 'team', { status: 'online' })
    t.same(await updateOf(bob, 'team', 'alice'), { status: 'online' })
    await alice1.request('leave_room', { room: 'team' })
    t.same(await updateOf(bob, 'team', 'alice'), { status: 'away' }, 'falls back to the next most recent state of a connection still in the room')
    t.same((await joined(await connect(t, a, 'dave'), 'team')).payload.presence, { alice: { status: 'away' } })

    await alice2.close()
    t.equal((await bob.waitFor('user_left')).payload.userId, 'alice')
    t.ok(await bob.expectNone('presence_updated', 150), 'the user left: user_left says it all')
    const again = await connect(t, a, 'alice')
    t.same((await joined(again, 'team')).payload.presence, {}, 'a user back in the room has no state until one is set')
  })

  tap.test('a connection without a state does not keep the user\'s state alive: the update says there is none', async (t) => {
    const [a, b, c] = await makeApps(t)
    const bob = await connect(t, c, 'bob')
    await joined(bob, 'room1')
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')
    await joined(alice1, 'room1')
    await joined(alice2, 'room1')
    await setPresence(alice1, 'room1', { status: 'online' })
    t.same(await updateOf(bob, 'room1', 'alice'), { status: 'online' })
    await alice1.close()
    t.equal(await updateOf(bob, 'room1', 'alice'), 'none', 'presence_updated without state')
    t.same((await bob.request('get_members', { room: 'room1' })).payload.presence, {})
  })

  tap.test('the server sets a user\'s state from any instance; an invalid one throws invalid_message', async (t) => {
    const [a, b, c] = await makeApps(t)
    const bob = await connect(t, a, 'bob')
    await joined(bob, 'ops')
    const alice1 = await connect(t, a, 'alice')
    const { client: alice2, connectionId } = await connectWithId(t, b, 'alice')
    await joined(alice1, 'ops')
    await joined(alice2, 'ops')

    await c.app.ws.setPresence({ userId: 'alice' }, 'ops', { status: 'away', name: 'Alice (lunch)' })
    t.same(await updateOf(bob, 'ops', 'alice'), { status: 'away', name: 'Alice (lunch)' })
    t.ok(await bob.expectNone('presence_updated', 150), 'one update for the user, not one per connection')

    await c.app.ws.setPresence({ userId: 'alice', connectionId }, 'ops', { status: 'online' })
    t.same(await updateOf(bob, 'ops', 'alice'), { status: 'online' })
    await alice2.close()
    t.same(await updateOf(bob, 'ops', 'alice'), { status: 'away', name: 'Alice (lunch)' }, 'the server-set state of the other connection is the fallback')

    await c.app.ws.setPresence({ userId: 'bob' }, 'elsewhere', { status: 'online' })
    t.same((await bob.request('get_members', { room: 'ops' })).payload.presence, { alice: { status: 'away', name: 'Alice (lunch)' } }, 'a room the user is not in: nothing set')

    const error = await c.app.ws.setPresence({ userId: 'alice' }, 'ops', { status: 'asleep' } as never).catch((err: unknown) => err)
    t.ok(error instanceof WsError, 'throws a WsError')
    t.equal((error as WsError).code, 'invalid_message')
    t.match((error as WsError).details, [{ path: /^\/state/ }])
  })

  tap.test('a state that breaks the schema is refused with invalid_message; a room not joined with not_in_room', async (t) => {
    const [a, b] = await makeApps(t)
    const alice = await connect(t, a, 'alice')
    const bob = await connect(t, b, 'bob')
    await joined(alice, 'lobby')
    await joined(bob, 'lobby')
    const bad = await alice.request('set_presence', { room: 'lobby', state: { status: 'asleep' } })
    t.equal(bad.type, 'error')
    t.equal(bad.payload.code, 'invalid_message')
    t.match(bad.payload.details, [{ path: /^\/payload\/state/ }])
    const outside = await alice.request('set_presence', { room: 'elsewhere', state: { status: 'online' } })
    t.equal(outside.payload.code, 'not_in_room')
    t.ok(await bob.expectNone('presence_updated', 150), 'nothing was announced')
  })

  tap.test('a state over presence.maxStateBytes is refused with invalid_message, from a client and from the server', async (t) => {
    const [a, b] = await makeApps(t, { presence: { maxStateBytes: 40 } })
    const alice = await connect(t, a, 'alice')
    const bob = await connect(t, b, 'bob')
    await joined(alice, 'lobby')
    await joined(bob, 'lobby')
    const big = { status: 'online', name: 'x'.repeat(30) } // 44 bytes as JSON
    const refused = await alice.request('set_presence', { room: 'lobby', state: big })
    t.equal(refused.payload.code, 'invalid_message')
    t.match(refused.payload.message, /presence\.maxStateBytes \(40 bytes/)
    await t.rejects(b.app.ws.setPresence({ userId: 'alice' }, 'lobby', big as never), { code: 'invalid_message' })
    await setPresence(alice, 'lobby', { status: 'away' })
    t.same(await updateOf(bob, 'lobby', 'alice'), { status: 'away' }, 'a state within the bound is set, and it is the first update bob hears')
  })
}

t.test('on one instance (memory adapter)', async (t) => {
  presenceSuite(t, async (t, options = {}) => {
    const app = await buildApp(t, { rateLimit: false, protocol, ...options })
    return [app, app, app]
  })
})

t.test('across three instances sharing an in-process bus (the adapter seam, no Redis)', async (t) => {
  presenceSuite(t, async (t, options = {}) => {
    const cluster = new InProcessCluster()
    const apps = []
    for (let i = 0; i < 3; i++) apps.push(await buildApp(t, { rateLimit: false, protocol, adapter: cluster.adapter(), ...options }))
    return apps as [TestApp, TestApp, TestApp]
  })
})

t.test('across three instances sharing Redis', async (t) => {
  const redis = await useRedis(t)
  if (redis === undefined) return
  presenceSuite(t, async (t, options = {}) => {
    const apps = []
    for (let i = 0; i < 3; i++) apps.push(await buildApp(t, { rateLimit: false, protocol, adapter: redis.adapter(), ...options }))
    return apps as [TestApp, TestApp, TestApp]
  })

  t.test('a process with no server sets a user\'s state through the emitter, checked against the schema', async (t) => {
    const a = await buildApp(t, { rateLimit: false, protocol, adapter: redis.adapter() })
    const bob = await connect(t, a, 'bob')
    const alice = await connect(t, a, 'alice')
    await joined(bob, 'news')
    await joined(alice, 'news')
    const emitter = new WsEmitter({ url: REDIS_URL, keyPrefix: redis.prefix, protocol })
    t.teardown(() => emitter.close())
    await emitter.setPresence({ userId: 'alice' }, 'news', { status: 'away', name: 'Alice' })
    t.same(await updateOf(bob, 'news', 'alice'), { status: 'away', name: 'Alice' })
    await t.rejects(emitter.setPresence({ userId: 'alice' }, 'news', { status: 'asleep' } as never), { code: 'invalid_message' })
    const plain = new WsEmitter({ url: REDIS_URL, keyPrefix: redis.prefix })
    t.teardown(() => plain.close())
    await t.rejects(plain.setPresence({ userId: 'alice' }, 'news', {}), { code: 'WS_ERR_NO_PRESENCE_STATE' })
  })

  t.test('an instance that closes removes its connections\' states with their memberships (the batch a reaper runs too)', async (t) => {
    const a = await buildApp(t, { rateLimit: false, protocol, adapter: redis.adapter() })
    const b = await buildApp(t, { rateLimit: false, protocol, adapter: redis.adapter() })
    const bob = await connect(t, b, 'bob')
    await joined(bob, 'hall')
    const alice = await connect(t, a, 'alice')
    await joined(alice, 'hall')
    await setPresence(alice, 'hall', { status: 'online' })
    t.same(await updateOf(bob, 'hall', 'alice'), { status: 'online' })
    t.ok(await redis.admin.hexists(`${redis.prefix}{r:hall}:state`, 's:alice'))
    await a.app.close()
    t.equal((await bob.waitFor('user_left', 5000)).payload.userId, 'alice')
    t.equal(await redis.admin.exists(`${redis.prefix}{r:hall}:state`), 0, 'no state left behind')
  })
})

t.test('a crashed instance\'s connections lose their states when a survivor reaps it', async (t) => {
  const cluster = new InProcessCluster({ heartbeatIntervalMs: 50, instanceTimeoutMs: 250 })
  const doomed = cluster.adapter()
  const a = await buildApp(t, { rateLimit: false, protocol, adapter: doomed })
  const b = await buildApp(t, { rateLimit: false, protocol, adapter: cluster.adapter() })
  const bob = await connect(t, b, 'bob')
  await joined(bob, 'hall')
  const alice1 = await connect(t, a, 'alice')
  const alice2 = await connect(t, b, 'alice')
  await joined(alice1, 'hall')
  await joined(alice2, 'hall')
  await setPresence(alice2, 'hall', { status: 'online' })
  t.same(await updateOf(bob, 'hall', 'alice'), { status: 'online' })
  await setPresence(alice1, 'hall', { status: 'away' })
  t.same(await updateOf(bob, 'hall', 'alice'), { status: 'away' })
  cluster.crash(doomed)
  // No announcement of the fallback after a reap (documented); the lists are right once it is done.
  const deadline = Date.now() + 5000
  let presence: unknown
  while (Date.now() < deadline) {
    presence = (await bob.request('get_members', { room: 'hall' })).payload.presence
    if (JSON.stringify(presence) === JSON.stringify({ alice: { status: 'online' } })) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.same(presence, { alice: { status: 'online' } }, 'the crashed connection\'s state is gone: the surviving connection\'s state is the user\'s')
})

t.test('an onJoin hook sets the joiner\'s state with ctx.setPresence: the joiner\'s room_joined already lists it', async (t) => {
  const app = await buildApp(t, { rateLimit: false, protocol }, undefined, (app) => {
    app.ws.addHook('onJoin', async (ctx, { room }) => {
      await ctx.setPresence(room, { status: 'online', name: `${ctx.userId}!` } as never)
      if (room === 'bad') await ctx.setPresence(room, { status: 'asleep' } as never)
    })
  })
  const bob = await connect(t, app, 'bob')
  await joined(bob, 'lobby')
  const alice = await connect(t, app, 'alice')
  const reply = await joined(alice, 'lobby')
  t.same(reply.payload.presence, { bob: { status: 'online', name: 'bob!' }, alice: { status: 'online', name: 'alice!' } })
  t.same(await updateOf(bob, 'lobby', 'alice'), { status: 'online', name: 'alice!' }, 'bob heard it')
  const refused = await alice.request('join_room', { room: 'bad' })
  t.same(refused.payload.code, 'invalid_message', 'a state the schema refuses fails the hook with invalid_message')
})

t.test('in a room over presence.listLimit, state changes are not announced (states stay listed)', async (t) => {
  const app = await buildApp(t, { rateLimit: false, protocol, presence: { listLimit: 2 } })
  const clients = []
  for (const user of ['u1', 'u2', 'u3']) {
    const client = await connect(t, app, user)
    await joined(client, 'big')
    clients.push(client)
  }
  await setPresence(clients[0]!, 'big', { status: 'away' })
  t.ok(await clients[1]!.expectNone('presence_updated', 150), 'no per-user update above the limit')
  const page = await clients[2]!.request('get_members', { room: 'big', limit: 2 })
  t.same(page.payload.presence, { u1: { status: 'away' } }, 'the page still carries the state')
})

t.test('without a declared presence state nothing changes: set_presence is unknown, lists carry no states', async (t) => {
  const app = await buildApp(t, { rateLimit: false })
  const alice = await connect(t, app, 'alice')
  const reply = await joined(alice, 'lobby')
  t.notOk('presence' in reply.payload)
  t.equal((await alice.request('set_presence', { room: 'lobby', state: { status: 'online' } })).payload.code, 'unknown_type')
  await t.rejects(app.app.ws.setPresence({ userId: 'alice' }, 'lobby', undefined as never), { code: 'WS_ERR_NO_PRESENCE_STATE' })
  t.throws(() => defineProtocol().server('presence_updated', { payload: Status }), { code: 'WS_ERR_DUPLICATE_MESSAGE' }, 'the name is reserved')
})
