/**
 * Server-side control from app code (`app.ws.addToRoom`, `removeFromRoom`, `disconnect`), seen
 * from the clients' side: on one instance (memory adapter) and across three instances (in-process
 * bus, Redis), where the call is made on an instance that holds none of the user's connections.
 */
import t, { type Test } from 'tap'
import { CloseCode, MemoryAdapter, type Adapter, type WsPluginOptions } from '../plugin.js'
import { buildApp, connect, joined, sleep, type TestApp, type TestClient } from './helpers/index.js'
import { InProcessCluster } from './helpers/in-process-cluster.js'
import { useRedis } from './helpers/redis.js'

type Tap = Test

/** Three "instances": the same app three times (memory), or three apps sharing Redis. */
type MakeApps = (t: Tap, options?: WsPluginOptions) => Promise<[TestApp, TestApp, TestApp]>

/** `frames` of `client` that belong to `room`, after a moment for stragglers. */
async function roomFramesAfter (client: TestClient, room: string, ms = 150): Promise<unknown[]> {
  await sleep(ms)
  return client.pending().filter((frame) => frame.room === room || (frame.payload as { room?: string } | undefined)?.room === room)
}

function controlSuite (tap: Tap, makeApps: MakeApps): void {
  tap.test('addToRoom puts every connection of a user into the room: each gets room_added, the others see one user_joined', async (t) => {
    const [a, b, c] = await makeApps(t)
    const bob = await connect(t, c, 'bob')
    await joined(bob, 'team')
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')

    await c.app.ws.addToRoom({ userId: 'alice' }, 'team')
    for (const alice of [alice1, alice2]) {
      const added = await alice.waitFor('room_added')
      t.equal(added.id, undefined, 'not a reply: no id')
      t.equal(added.payload.room, 'team')
      t.same([...added.payload.members].sort(), ['alice', 'bob'])
      t.equal(added.payload.seq, 0)
    }
    t.equal((await bob.waitFor('user_joined')).payload.userId, 'alice')
    t.ok(await bob.expectNone('user_joined'), 'one user_joined for the user, not one per connection')
    t.same((await a.app.ws.members('team')).sort(), ['alice', 'bob'])

    await bob.request('message', { room: 'team', content: 'welcome' })
    for (const alice of [alice1, alice2]) t.equal((await alice.waitFor('message')).payload.content, 'welcome', 'room messages reach the added connections')
  })

  tap.test('addToRoom with a connectionId adds only that connection; a member already there gets nothing', async (t) => {
    const [a, b, c] = await makeApps(t)
    const alice1 = await connect(t, a, 'alice')
    const { client: alice2, connectionId } = await connectWithId(t, b, 'alice')
    await joined(alice1, 'lobby')
    await c.app.ws.addToRoom({ userId: 'alice', connectionId }, 'focus')
    t.equal((await alice2.waitFor('room_added')).payload.room, 'focus')
    t.ok(await alice1.expectNone('room_added'), 'the other connection is not added')

    await c.app.ws.addToRoom({ userId: 'alice' }, 'lobby')
    t.ok(await alice1.expectNone('room_added'), 'already a member: no frame')
    t.equal((await alice2.waitFor('room_added')).payload.room, 'lobby', 'the connection that was not in it is added')
  })

  tap.test('authorizeJoin is not asked when the server adds a user, but still guards the client\'s own join_room', async (t) => {
    const [a,, c] = await makeApps(t, { authorizeJoin: (_user, room) => room !== 'private' })
    const alice = await connect(t, a, 'alice')
    t.equal((await alice.request('join_room', { room: 'private' })).payload.code, 'forbidden')
    await c.app.ws.addToRoom({ userId: 'alice' }, 'private')
    t.equal((await alice.waitFor('room_added')).payload.room, 'private')
  })

  tap.test('removeFromRoom sends room_removed with the reason, then nothing of the room; the others see user_left', async (t) => {
    const [a, b, c] = await makeApps(t)
    const bob = await connect(t, c, 'bob')
    await joined(bob, 'team')
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')
    await joined(alice1, 'team')
    await joined(alice2, 'team')
    await joined(alice1, 'lobby')
    await bob.waitFor('user_joined')

    await c.app.ws.removeFromRoom({ userId: 'alice' }, 'team', 'Removed from the team')
    for (const alice of [alice1, alice2]) {
      t.same((await alice.waitFor('room_removed')).payload, { room: 'team', reason: 'Removed from the team' })
    }
    t.equal((await bob.waitFor('user_left')).payload.userId, 'alice')
    t.same(await c.app.ws.members('team'), ['bob'])

    await bob.request('message', { room: 'team', content: 'after' })
    t.same(await roomFramesAfter(alice1, 'team'), [], 'no frame of the room after room_removed')
    t.same(await roomFramesAfter(alice2, 'team'), [])
    t.equal((await alice1.request('message', { room: 'team', content: 'x' })).payload.code, 'not_in_room')
    t.equal((await alice1.request('message', { room: 'lobby', content: 'still here' })).type, 'ack', 'other rooms are kept')
    t.equal((await alice1.request('join_room', { room: 'team' })).type, 'room_joined', 'a removal is not a ban: the client may join again if authorizeJoin lets it')
  })

  tap.test('removeFromRoom without a reason says "Removed by the server"; connections not in the room get nothing', async (t) => {
    const [a, b, c] = await makeApps(t)
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')
    await joined(alice1, 'team')
    await c.app.ws.removeFromRoom({ userId: 'alice' }, 'team')
    t.same((await alice1.waitFor('room_removed')).payload, { room: 'team', reason: 'Removed by the server' })
    t.ok(await alice2.expectNone('room_removed'))
  })

  tap.test('disconnect closes every connection of the user with 4009 and the reason; other users stay', async (t) => {
    const [a, b, c] = await makeApps(t)
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')
    const bob = await connect(t, c, 'bob')
    await joined(bob, 'team')
    await joined(alice1, 'team')
    await bob.waitFor('user_joined')

    await c.app.ws.disconnect({ userId: 'alice' }, 'Banned for spam')
    for (const alice of [alice1, alice2]) t.same(await alice.closed, { code: CloseCode.Disconnected, reason: 'Banned for spam' })
    t.equal(CloseCode.Disconnected, 4009)
    t.equal((await bob.waitFor('user_left')).payload.userId, 'alice', 'presence follows')
    t.equal((await bob.request('ping')).type, 'pong', 'bob is still connected')
  })

  tap.test('disconnect with a connectionId closes only that connection; a long reason is cut to fit a close frame', async (t) => {
    const [a, b, c] = await makeApps(t)
    const alice1 = await connect(t, a, 'alice')
    const { client: alice2, connectionId } = await connectWithId(t, b, 'alice')
    await c.app.ws.disconnect({ userId: 'alice', connectionId }, 'é'.repeat(100))
    const closed = await alice2.closed
    t.equal(closed.code, 4009)
    t.ok(Buffer.byteLength(closed.reason) <= 123 && closed.reason.startsWith('éé') && closed.reason.endsWith('…'), 'cut on a character boundary')
    t.equal((await alice1.request('ping')).type, 'pong', 'the other connection stays')
  })

  tap.test('bad arguments are the app\'s bug: they throw, and nothing is sent', async (t) => {
    const [a] = await makeApps(t)
    await t.rejects(a.app.ws.addToRoom({ userId: '' }, 'team'), TypeError)
    await t.rejects(a.app.ws.addToRoom({ userId: 'alice' }, 'bad room!'), { code: 'invalid_message' })
    await t.rejects(a.app.ws.disconnect({ userId: 'alice', connectionId: '' }), TypeError)
  })
}

/** A client and its connection id (from its `connected` frame). */
async function connectWithId (t: Tap, target: TestApp, userId: string): Promise<{ client: TestClient, connectionId: string }> {
  const client = await connect(t, target, userId, { awaitConnected: false })
  const connected = await client.waitFor('connected')
  return { client, connectionId: connected.payload.connectionId }
}

t.test('on one instance (memory adapter)', async (t) => {
  controlSuite(t, async (t, options = {}) => {
    const app = await buildApp(t, { rateLimit: false, ...options })
    return [app, app, app]
  })
})

t.test('across three instances sharing an in-process bus (the adapter seam, no Redis)', async (t) => {
  controlSuite(t, async (t, options = {}) => {
    const cluster = new InProcessCluster()
    const apps = []
    for (let i = 0; i < 3; i++) apps.push(await buildApp(t, { rateLimit: false, adapter: cluster.adapter(), ...options }))
    return apps as [TestApp, TestApp, TestApp]
  })
})

t.test('across three instances sharing Redis', async (t) => {
  const redis = await useRedis(t)
  if (redis === undefined) return
  controlSuite(t, async (t, options = {}) => {
    const apps = []
    for (let i = 0; i < 3; i++) {
      const app = await buildApp(t, { rateLimit: false, adapter: redis.adapter(), ...options })
        apps.push(app)
    }
    return apps as [TestApp, TestApp, TestApp]
  })
})

/** The memory adapter with a gate on `members`, to hold a join between becoming a member and its reply. */
function gatedMembers (): { adapter: Adapter, close: () => Promise<void>, open: () => void } {
  const inner = new MemoryAdapter()
  let gate: Promise<void> | undefined
  let open = (): void => {}
  let arrive = (): void => {}
  const adapter: Adapter = {
    init: (host) => inner.init(host),
    close: () => inner.close(),
    publishToRoom: (message) => inner.publishToRoom(message),
    publishToUser: (userId, data) => inner.publishToUser(userId, data),
    addMember: (room, userId, connectionId) => inner.addMember(room, userId, connectionId),
    removeMember: (room, userId, connectionId) => inner.removeMember(room, userId, connectionId),
    members: (room) => {
      if (gate === undefined) return inner.members(room)
      arrive()
      return gate.then(() => inner.members(room))
    },
    lastSeq: (room) => inner.lastSeq(room),
    recover: (room, since) => inner.recover(room, since),
  }
  return {
    adapter,
    /** From now on `members` waits; resolves when a call reached the gate. */
    close: () => {
      gate = new Promise((resolve) => { open = resolve })
      return new Promise((resolve) => { arrive = resolve })
    },
    open: () => { gate = undefined; open() },
  }
}

t.test('a removal that lands while the connection\'s own join is in flight wins: the join is answered forbidden, the client is not a member', async (t) => {
  const gated = gatedMembers()
  const app = await buildApp(t, { adapter: gated.adapter })
  const alice = await connect(t, app, 'alice')
  const reached = gated.close()
  const reply = alice.request('join_room', { room: 'team' })
  await reached
  await app.app.ws.removeFromRoom({ userId: 'alice' }, 'team', 'Not on the team')
  gated.open()
  t.same((await alice.waitFor('room_removed')).payload, { room: 'team', reason: 'Not on the team' })
  const answer = await reply
  t.equal(answer.type, 'error')
  t.equal(answer.payload.code, 'forbidden')
  t.same(await app.app.ws.members('team'), [], 'not a member')
  t.same(app.app.ws.rooms(), [])
})
