import t from 'tap'
import { buildApp, connect, joined, sleep } from './helpers/index.js'

t.test('a frame larger than maxPayload closes the connection with 1009', async (t) => {
  const server = await buildApp(t, { maxPayload: 1024 })
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  alice.sendRaw(JSON.stringify({ type: 'ping', id: 'big', payload: { pad: 'x'.repeat(2000) } }))
  t.equal((await alice.closed).code, 1009)
  t.equal((await bob.request('ping')).type, 'pong', 'other connections are unaffected')
})

t.test('a frame just under maxPayload is processed normally', async (t) => {
  const server = await buildApp(t, { maxPayload: 1024 })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  const frame = JSON.stringify({ type: 'message', id: 'm1', payload: { room: 'general', content: '' } })
  const content = 'y'.repeat(1024 - frame.length)
  const ack = await alice.request('message', { room: 'general', content })
  t.equal(ack.type, 'ack')
})

t.test('a flood is answered with rate_limited errors carrying the request id, then closed with 4029 and a retry-after; another client is unaffected', async (t) => {
  const server = await buildApp(t, { rateLimit: { perSecond: 1, burst: 5, closeAfter: 10 } })
  const flooder = await connect(t, server, 'mallory')
  const bystander = await connect(t, server, 'bob')
  for (let i = 0; i < 40; i++) flooder.send('ping', {}, `f${i}`)
  const closed = await flooder.closed
  t.equal(closed.code, 4029)
  t.equal(closed.reason, 'Rate limit exceeded repeatedly; retry after 5000 ms')
  const pongs = flooder.pending('pong')
  const errors = flooder.pending('error')
  t.equal(pongs.length, 5, 'the burst is served')
  t.same(pongs.map((frame) => frame.id), ['f0', 'f1', 'f2', 'f3', 'f4'])
  t.equal(errors.length, 9, 'closeAfter - 1 warnings, then the close')
  for (const [i, error] of errors.entries()) {
    t.equal(error.payload.code, 'rate_limited')
    t.equal(error.id, `f${5 + i}`, 'the error names the refused request')
  }
  t.equal((await bystander.request('ping')).type, 'pong')
  t.equal(server.app.ws.stats().errors.rate_limited, 9)
})

t.test('a rate-limited client that slows down is served again and not closed', async (t) => {
  const server = await buildApp(t, { rateLimit: { perSecond: 50, burst: 2, closeAfter: 3 } })
  const alice = await connect(t, server, 'alice')
  for (let i = 0; i < 4; i++) alice.send('ping', {}, `a${i}`)
  const replies = [await alice.waitFor((f) => f.id === 'a2'), await alice.waitFor((f) => f.id === 'a3')]
  t.same(replies.map((f) => f.payload.code), ['rate_limited', 'rate_limited'])
  // Waiting for a refill is the behaviour under test here, not a timing assertion.
  await sleep(100)
  t.equal((await alice.request('ping')).type, 'pong')
  t.ok(alice.isOpen, 'warnings reset once a frame is accepted')
})

t.test('joining more than maxRoomsPerConnection rooms is refused with room_limit', async (t) => {
  const server = await buildApp(t, { maxRoomsPerConnection: 3 })
  const alice = await connect(t, server, 'alice')
  for (const room of ['a', 'b', 'c']) await joined(alice, room)
  const reply = await alice.request('join_room', { room: 'd' })
  t.equal(reply.type, 'error')
  t.equal(reply.payload.code, 'room_limit')
  t.same(server.app.ws.rooms().sort(), ['a', 'b', 'c'])
  t.equal((await alice.request('join_room', { room: 'b' })).type, 'room_joined', 'rejoining a room it is in is fine')
  await alice.request('leave_room', { room: 'a' })
  t.equal((await alice.request('join_room', { room: 'd' })).type, 'room_joined', 'leaving frees a slot')
})

for (const [what, room] of [
  ['empty', ''],
  ['too long (129 characters)', 'r'.repeat(129)],
  ['with a space', 'two words'],
  ['with non-ASCII letters', 'café'],
  ['with a quote', 'a"b'],
  ['not a string', 42],
] as const) {
  t.test(`a room name ${what} is refused with invalid_message and details`, async (t) => {
    const server = await buildApp(t)
    const alice = await connect(t, server, 'alice')
    const reply = await alice.request('join_room', { room })
    t.equal(reply.type, 'error')
    t.equal(reply.payload.code, 'invalid_message')
    t.ok(reply.payload.details.length > 0)
    t.ok(reply.payload.details.every((d: { path: string }) => d.path === '/payload/room'), JSON.stringify(reply.payload.details))
    t.same(server.app.ws.rooms(), [])
  })
}

t.test('a room name of exactly 128 allowed characters is accepted', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const room = 'Az09_.:@#/-'.repeat(12).slice(0, 128).padEnd(128, 'x')
  t.equal((await alice.request('join_room', { room })).type, 'room_joined')
})

t.test('app.ws.broadcast to an invalid room name rejects with invalid_message', async (t) => {
  const server = await buildApp(t)
  await t.rejects(server.app.ws.broadcast('bad room', 'message', { userId: 'x', content: 'y', ts: 1 }), { code: 'invalid_message' })
})

t.test('a user over maxConnectionsPerUser is closed with 4008; other users still connect', async (t) => {
  const server = await buildApp(t, { maxConnectionsPerUser: 2 })
  await connect(t, server, 'alice')
  await connect(t, server, 'alice')
  const third = await connect(t, server, 'alice', { awaitConnected: false })
  const closed = await third.closed
  t.equal(closed.code, 4008)
  t.same(third.frames, [], 'refused before `connected`')
  const bob = await connect(t, server, 'bob')
  t.ok(bob.isOpen)
  t.equal(server.app.ws.stats().connections, 3)
})

t.test('connections over maxConnections are closed with 1013 and the server keeps serving', async (t) => {
  const server = await buildApp(t, { maxConnections: 3 })
  const clients = [await connect(t, server, 'a'), await connect(t, server, 'b'), await connect(t, server, 'c')]
  const refused = await connect(t, server, 'd', { awaitConnected: false })
  t.equal((await refused.closed).code, 1013)
  t.equal((await clients[0]!.request('ping')).type, 'pong')
  await clients[2]!.close()
  // The slot is free once the server has processed the close.
  while (server.app.ws.stats().connections > 2) await sleep(5)
  const later = await connect(t, server, 'd')
  t.ok(later.isOpen)
})

t.test('schema limits apply per message type: content over maxLength is invalid_message', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  const reply = await alice.request('message', { room: 'general', content: 'x'.repeat(4001) })
  t.equal(reply.type, 'error')
  t.equal(reply.payload.code, 'invalid_message')
  t.same(reply.payload.details.map((d: { path: string }) => d.path), ['/payload/content'])
  t.ok(await alice.expectNone('message', 20), 'nothing was delivered')
  t.equal((await alice.request('message', { room: 'general', content: 'x'.repeat(4000) })).type, 'ack')
})

t.test('join_room frames count first against a once-per-connection allowance of maxRoomsPerConnection, then against the bucket', async (t) => {
  const server = await buildApp(t, { rateLimit: { perSecond: 1, burst: 2, closeAfter: 50 }, maxRoomsPerConnection: 5 })
  const alice = await connect(t, server, 'alice')
  for (let i = 0; i < 7; i++) alice.send('join_room', { room: `r${i}` }, `j${i}`)
  alice.send('ping', {}, 'p0')
  const replies = []
  for (let i = 0; i < 8; i++) replies.push(await alice.waitFor((frame) => frame.id !== undefined))
  // The refusal of p0 is answered at once, ahead of the joins still being processed: compare by id.
  t.same(replies.map((frame) => [frame.id, frame.type === 'error' ? frame.payload.code : frame.type]).sort(), [
    ['j0', 'room_joined'], ['j1', 'room_joined'], ['j2', 'room_joined'], ['j3', 'room_joined'], ['j4', 'room_joined'],
    ['j5', 'room_limit'], ['j6', 'room_limit'], // the allowance is spent: these took the bucket's two tokens
    ['p0', 'rate_limited'],
  ])
  const bob = await connect(t, server, 'bob')
  t.equal((await bob.request('ping')).type, 'pong', 'the bucket is per connection')
})
