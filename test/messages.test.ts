import t from 'tap'
import { buildApp, connect, joined } from './helpers/index.js'

t.test('message reaches every member, sender included, with room and an increasing seq; the request gets ack', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  const outsider = await connect(t, server, 'carol')
  await joined(alice, 'general')
  await joined(bob, 'general')
  await joined(outsider, 'elsewhere')
  const ack1 = await alice.request('message', { room: 'general', content: 'hello' })
  t.same(ack1, { type: 'ack', id: ack1.id, payload: {} })
  await bob.request('message', { room: 'general', content: 'hi alice' })
  for (const client of [alice, bob]) {
    const first = await client.waitFor('message')
    const second = await client.waitFor('message')
    t.match(first, { type: 'message', room: 'general', seq: 1, payload: { userId: 'alice', content: 'hello' } })
    t.match(second, { room: 'general', seq: 2, payload: { userId: 'bob', content: 'hi alice' } })
    t.type(first.payload.ts, 'number')
  }
  t.ok(await outsider.expectNone('message'), 'other rooms see nothing')
})

t.test('a message without id is delivered and not acknowledged', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  alice.send('message', { room: 'general', content: 'fire and forget' })
  await alice.waitFor('message')
  t.ok(await alice.expectNone('ack'))
})

t.test('typing goes to the other members only, not to any connection of the sender, without seq', async (t) => {
  const server = await buildApp(t)
  const alice1 = await connect(t, server, 'alice')
  const alice2 = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  for (const client of [alice1, alice2, bob]) await joined(client, 'general')
  const ack = await alice1.request('typing', { room: 'general' })
  t.equal(ack.type, 'ack')
  const event = await bob.waitFor('typing')
  t.same(event, { type: 'typing', room: 'general', payload: { userId: 'alice' } })
  t.ok(await alice1.expectNone('typing'))
  t.ok(await alice2.expectNone('typing', 10))
})

t.test('message and typing need membership: not_in_room', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  for (const type of ['message', 'typing']) {
    const reply = await alice.request(type, type === 'message' ? { room: 'general', content: 'x' } : { room: 'general' })
    t.equal(reply.type, 'error')
    t.equal(reply.payload.code, 'not_in_room')
  }
})

t.test('ping is answered with pong and the server time', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const before = Date.now()
  const pong = await alice.request('ping')
  t.equal(pong.type, 'pong')
  t.ok(pong.payload.ts >= before && pong.payload.ts <= Date.now())
})

t.test('app.ws.broadcast honours exclusions by user and by connection', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob1 = await connect(t, server, 'bob')
  const bob2 = await connect(t, server, 'bob')
  const carol = await connect(t, server, 'carol')
  for (const client of [alice, bob1, bob2, carol]) await joined(client, 'general')
  t.equal((await server.app.ws.members('general')).length, 3)
  const seq = await server.app.ws.broadcast('general', 'message', { userId: 'system', content: 'no alice', ts: 1 }, { except: { users: ['alice'] } })
  t.type(seq, 'number')
  for (const client of [bob1, bob2, carol]) t.equal((await client.waitFor('message')).payload.content, 'no alice')
  t.ok(await alice.expectNone('message'))
})

t.test('app.ws.broadcast can exclude a single connection', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice', { awaitConnected: false })
  const aliceId = (await alice.waitFor('connected')).payload.connectionId as string
  const alice2 = await connect(t, server, 'alice')
  await joined(alice, 'general')
  await joined(alice2, 'general')
  await server.app.ws.broadcast('general', 'message', { userId: 'system', content: 'x', ts: 1 }, { except: { connections: [aliceId] } })
  t.equal((await alice2.waitFor('message')).payload.content, 'x')
  t.ok(await alice.expectNone('message'))
})

t.test('app.ws.sendToUser reaches every connection of that user and nobody else', async (t) => {
  const server = await buildApp(t)
  const bob1 = await connect(t, server, 'bob')
  const bob2 = await connect(t, server, 'bob')
  const carol = await connect(t, server, 'carol')
  await server.app.ws.sendToUser('bob', 'message', { userId: 'system', content: 'for bob', ts: 1 })
  for (const client of [bob1, bob2]) {
    const frame = await client.waitFor('message')
    t.same(frame.payload.content, 'for bob')
    t.notOk('room' in frame)
    t.notOk('seq' in frame)
  }
  t.ok(await carol.expectNone('message'))
})

t.test('a broadcast is serialised once, not once per recipient', async (t) => {
  const server = await buildApp(t)
  const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => connect(t, server, `u${i}`)))
  for (const client of clients) await joined(client, 'general')
  let serialisations = 0
  const payload = { userId: 'system', content: 'once', ts: 1, toJSON () { serialisations++; return { userId: 'system', content: 'once', ts: 1 } } }
  await server.app.ws.broadcast('general', 'message', payload)
  for (const client of clients) t.equal((await client.waitFor('message')).payload.content, 'once')
  t.equal(serialisations, 1, 'one JSON encoding for 8 recipients')
})

t.test('broadcasting an undeclared type is refused', async (t) => {
  const server = await buildApp(t)
  await t.rejects(server.app.ws.broadcast('general', 'nope' as 'message', { userId: 'x', content: 'y', ts: 1 }), /Unknown server message type "nope"/)
})
