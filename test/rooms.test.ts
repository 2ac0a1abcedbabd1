import t from 'tap'
import { buildApp, connect, joined, until } from './helpers/index.js'

t.test('join_room replies room_joined with the distinct members and the room\'s last seq', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  const first = await joined(alice, 'general')
  const { epoch, version, ...rest } = first.payload
  t.same(rest, { room: 'general', members: ['alice'], memberCount: 1, seq: 0 })
  t.type(epoch, 'string', 'and the epoch of the room\'s numbering')
  t.type(version, 'number', 'and the room\'s presence version')
  await alice.request('message', { room: 'general', content: 'one' })
  const second = await joined(bob, 'general')
  t.same(second.payload.members.sort(), ['alice', 'bob'])
  t.equal(second.payload.seq, 1)
})

t.test('user_joined goes to the other members on a user\'s first connection only', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  const bob1 = await connect(t, server, 'bob')
  const bob2 = await connect(t, server, 'bob')
  await joined(bob1, 'general')
  const event = await alice.waitFor('user_joined')
  t.match(event.payload, { userId: 'bob', version: Number })
  t.equal(event.room, 'general')
  t.notOk('seq' in event, 'presence events are ephemeral: no seq')
  t.ok(await bob1.expectNone('user_joined'), 'the joiner is not told about itself')
  await joined(bob2, 'general')
  t.ok(await alice.expectNone('user_joined'), 'a second connection of the same user is not a new arrival')
  const members = (await joined(alice, 'general')).payload.members
  t.same(members.sort(), ['alice', 'bob'], 'members are distinct users')
})

t.test('user_left fires only when a user\'s last connection leaves', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob1 = await connect(t, server, 'bob')
  const bob2 = await connect(t, server, 'bob')
  for (const client of [alice, bob1, bob2]) await joined(client, 'general')
  await alice.waitFor('user_joined')
  const left = await bob1.request('leave_room', { room: 'general' })
  t.same(left, { type: 'room_left', id: left.id, payload: { room: 'general' } })
  t.ok(await alice.expectNone('user_left'), 'bob is still there through another connection')
  await bob2.close()
  const event = await alice.waitFor('user_left')
  t.match(event.payload, { userId: 'bob', version: Number })
  t.equal(event.room, 'general')
  t.same((await joined(alice, 'general')).payload.members, ['alice'])
})

t.test('disconnecting counts as leaving every room', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  for (const room of ['a', 'b']) {
    await joined(alice, room)
    await joined(bob, room)
  }
  await bob.close()
  const rooms = new Set([(await alice.waitFor('user_left')).room, (await alice.waitFor('user_left')).room])
  t.same([...rooms].sort(), ['a', 'b'])
  t.same(await server.app.ws.members('a'), ['alice'])
})

t.test('leaving a room one is not in still answers room_left', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('leave_room', { room: 'nowhere' })
  t.equal(reply.type, 'room_left')
})

t.test('joining twice is idempotent: no second user_joined, same membership', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  await joined(alice, 'general')
  await joined(bob, 'general')
  await alice.waitFor('user_joined')
  await joined(bob, 'general')
  t.ok(await alice.expectNone('user_joined'))
  t.same(server.app.ws.stats().rooms, 1)
})

t.test('authorizeJoin refusing a room answers forbidden and keeps the connection', async (t) => {
  const server = await buildApp(t, { authorizeJoin: async (user, room) => !room.startsWith('admin') || user.id === 'root' })
  const alice = await connect(t, server, 'alice')
  const refused = await alice.request('join_room', { room: 'admin-only' })
  t.equal(refused.type, 'error')
  t.equal(refused.payload.code, 'forbidden')
  t.ok(alice.isOpen)
  t.equal((await alice.request('join_room', { room: 'general' })).type, 'room_joined')
  const root = await connect(t, server, 'root')
  t.equal((await root.request('join_room', { room: 'admin-only' })).type, 'room_joined')
  t.same(server.app.ws.rooms().sort(), ['admin-only', 'general'])
})

t.test('hub state is empty again once everyone has left', async (t) => {
  const server = await buildApp(t)
  const clients = await Promise.all(['a', 'b', 'c', 'a'].map((user) => connect(t, server, user)))
  for (const [i, client] of clients.entries()) {
    await joined(client, 'general')
    await joined(client, `room-${i}`)
    await client.request('message', { room: 'general', content: 'hi' })
    await client.request('typing', { room: 'general' })
  }
  t.equal(server.app.ws.stats().connections, 4)
  t.equal(server.app.ws.stats().users, 3)
  await Promise.all(clients.map((client) => client.close()))
  await until(() => server.app.ws.stats().connections === 0, 'every connection is gone')
  const stats = server.app.ws.stats()
  t.equal(stats.connections, 0)
  t.equal(stats.users, 0)
  t.equal(stats.rooms, 0)
  t.same(server.app.ws.rooms(), [])
  t.same(await server.app.ws.members('general'), [])
  t.match(stats.adapter, { presenceRooms: 0 })
})
