import t from 'tap'
import { buildApp, connect, joined, sleep, type TestClient } from './helpers/index.js'

async function until (condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5)
}

t.test('stats() starts at zero', async (t) => {
  const server = await buildApp(t)
  t.same(server.app.ws.stats(), {
    connections: 0, users: 0, rooms: 0, messagesIn: 0, messagesOut: 0, framesDropped: 0, slowConsumerCloses: 0, errors: {},
    messagesInByType: {}, messagesOutByType: {}, recoveries: { recovered: 0, notRecovered: 0 },
    adapter: { adapter: 'memory', presenceRooms: 0, historyRooms: 0 },
  })
})

t.test('stats() counts connections, distinct users, rooms and messages in and out as they happen', async (t) => {
  const server = await buildApp(t)
  const stats = () => server.app.ws.stats()
  const alice1 = await connect(t, server, 'alice')
  const alice2 = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  t.match(stats(), { connections: 3, users: 2, rooms: 0, messagesIn: 0, messagesOut: 3 }, 'three `connected` frames out')

  await joined(alice1, 'a')
  t.match(stats(), { rooms: 1, messagesIn: 1, messagesOut: 4 }, 'room_joined (user_joined goes to nobody else yet)')
  await joined(bob, 'a')
  await alice1.waitFor('user_joined')
  t.match(stats(), { rooms: 1, messagesIn: 2, messagesOut: 6 }, 'room_joined to bob, user_joined to alice')
  await joined(alice2, 'b')
  t.match(stats(), { rooms: 2, messagesIn: 3, messagesOut: 7 })

  await bob.request('message', { room: 'a', content: 'hi' })
  await alice1.waitFor('message')
  t.match(stats(), { messagesIn: 4, messagesOut: 10 }, 'one message to two members, and the ack')

  await bob.close()
  await until(() => stats().connections === 2)
  await alice1.waitFor('user_left')
  t.match(stats(), { connections: 2, users: 1, rooms: 2, messagesOut: 11 }, 'user_left to alice')
  await alice1.request('leave_room', { room: 'a' })
  t.match(stats(), { rooms: 1, messagesIn: 5 })
  await alice2.close()
  await until(() => stats().connections === 1)
  t.match(stats(), { connections: 1, users: 1, rooms: 0 })
  await alice1.close()
  await until(() => stats().connections === 0)
  // Both rooms keep their numbering (seq and its epoch, which a join reads) until historyTtlMs.
  t.match(stats(), { connections: 0, users: 0, rooms: 0, adapter: { presenceRooms: 0, historyRooms: 2 } }, 'history outlives presence (historyTtlMs)')
})

t.test('stats() counts errors sent, by code', async (t) => {
  const server = await buildApp(t, { maxRoomsPerConnection: 1 })
  const alice = await connect(t, server, 'alice')
  alice.sendRaw('not json')
  alice.sendRaw(Buffer.from('{}'), { binary: true })
  alice.send('nope', {}, 'x1')
  alice.send('join_room', { room: 'bad room' }, 'x2')
  alice.send('message', { room: 'general', content: 'x' }, 'x3')
  await joined(alice, 'one')
  alice.send('join_room', { room: 'two' }, 'x4')
  const last = await alice.waitFor((frame) => frame.id === 'x4')
  t.same(server.app.ws.stats().errors, { invalid_frame: 2, unknown_type: 1, invalid_message: 1, not_in_room: 1, room_limit: 1 })
  t.same([...alice.pending('error'), last].map((frame) => frame.payload.code),
    ['invalid_frame', 'invalid_frame', 'unknown_type', 'invalid_message', 'not_in_room', 'room_limit'], 'one error frame for each')
})

t.test('stats() counts frames dropped for a slow reader', async (t) => {
  const server = await buildApp(t, { highWaterMark: 16 * 1024, slowConsumerGraceMs: 60_000, heartbeatIntervalMs: 0 })
  const slow: TestClient = await connect(t, server, 'slow')
  await joined(slow, 'r')
  ;(slow.socket as unknown as { _socket: { pause(): void } })._socket.pause()
  const content = 'x'.repeat(2000)
  let sent = 0
  while (server.app.ws.stats().framesDropped === 0 && sent < 20_000) {
    await server.app.ws.broadcast('r', 'message', { userId: 'system', content, ts: ++sent })
    if (sent % 25 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  for (let i = 0; i < 10; i++) await server.app.ws.broadcast('r', 'message', { userId: 'system', content, ts: ++sent })
  const stats = server.app.ws.stats()
  ;(slow.socket as unknown as { _socket: { resume(): void } })._socket.resume()
  t.ok(stats.framesDropped >= 11, `dropped ${stats.framesDropped} of ${sent}`)
  t.equal(stats.messagesOut + stats.framesDropped, sent + 2, 'every delivery is either written or dropped (+ connected, room_joined)')
})
