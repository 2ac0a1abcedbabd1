import t from 'tap'
import { buildApp, connect, joined } from './helpers/index.js'

t.test('a frame that is not JSON is invalid_frame and the connection stays open', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  alice.sendRaw('{not json')
  const error = await alice.waitFor('error')
  t.same(error.payload, { code: 'invalid_frame', message: 'Frame is not valid JSON' })
  t.ok(alice.isOpen)
  t.equal((await alice.request('ping')).type, 'pong')
})

t.test('JSON that is not an object is invalid_frame', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  for (const raw of ['[1,2]', '"text"', '42', 'null']) {
    alice.sendRaw(raw)
    t.equal((await alice.waitFor('error')).payload.code, 'invalid_frame', raw)
  }
})

t.test('a binary frame is invalid_frame', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  alice.sendRaw(Buffer.from(JSON.stringify({ type: 'ping', id: 'b' })), { binary: true })
  const error = await alice.waitFor('error')
  t.equal(error.payload.code, 'invalid_frame')
  t.match(error.payload.message, /Binary/)
})

t.test('envelope violations are invalid_message with the failing path', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  const cases: Array<[unknown, string, string | undefined]> = [
    [{ id: 'x1' }, '/type', 'x1'],
    [{ type: 7 }, '/type', undefined],
    [{ type: 'ping', id: '' }, '/id', undefined],
    [{ type: 'ping', id: 'x'.repeat(65) }, '/id', undefined],
    [{ type: 'ping', id: 'x2', payload: [1] }, '/payload', 'x2'],
    [{ type: 'ping', id: 'x3', extra: true }, '/extra', 'x3'],
  ]
  for (const [frame, path, id] of cases) {
    alice.sendRaw(JSON.stringify(frame))
    const error = await alice.waitFor('error')
    t.equal(error.payload.code, 'invalid_message', JSON.stringify(frame))
    t.equal(error.payload.details[0].path, path)
    t.equal(error.id, id, 'the id is echoed only when it is valid')
  }
})

t.test('schema violations are invalid_message listing every failing path, with the request id', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  const error = await alice.request('message', { room: '', content: 5, extra: 1 })
  t.equal(error.type, 'error')
  t.equal(error.payload.code, 'invalid_message')
  const paths = error.payload.details.map((detail: { path: string }) => detail.path)
  t.ok(paths.includes('/payload/room'), 'room')
  t.ok(paths.includes('/payload/content'), 'content')
  t.ok(paths.some((path: string) => path.startsWith('/payload')), 'all under /payload')
  const missing = await alice.request('join_room', {})
  t.equal(missing.payload.code, 'invalid_message')
})

t.test('an unknown type is unknown_type with the request id', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  const error = await alice.request('launch_rockets', {})
  t.same(error.payload, { code: 'unknown_type', message: 'Unknown message type "launch_rockets"' })
})

t.test('every request with an id gets exactly one reply', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  const bob = await connect(t, server, 'bob')
  await joined(bob, 'general')
  const requests: Array<[string, unknown]> = [
    ['join_room', { room: 'general' }],
    ['message', { room: 'general', content: 'x' }],
    ['typing', { room: 'general' }],
    ['ping', undefined],
    ['leave_room', { room: 'general' }],
    ['message', { room: 'general', content: 'not a member any more' }],
    ['nope', {}],
  ]
  for (const [i, [type, payload]] of requests.entries()) alice.send(type, payload, `q${i}`)
  const expected = ['room_joined', 'ack', 'ack', 'pong', 'room_left', 'error', 'error']
  for (const [i, type] of expected.entries()) {
    t.equal((await alice.waitFor((frame) => frame.id === `q${i}`)).type, type, `q${i}`)
  }
  await alice.request('ping')
  const replies = alice.pending().filter((frame) => frame.id !== undefined)
  t.same(replies, [], 'no second reply to any id')
})

t.test('frames of one connection are processed in order, even behind an async handler', async (t) => {
  const server = await buildApp(t, { authorizeJoin: async () => { await new Promise((resolve) => setTimeout(resolve, 30)); return true } })
  const alice = await connect(t, server)
  alice.send('join_room', { room: 'general' }, 'j')
  alice.send('message', { room: 'general', content: 'right after join' }, 'm')
  t.equal((await alice.waitFor((frame) => frame.id === 'j')).type, 'room_joined')
  t.equal((await alice.waitFor((frame) => frame.id === 'm')).type, 'ack', 'the message saw the membership')
  t.equal((await alice.waitFor('message')).payload.content, 'right after join')
})

t.test('a frame that breaks WebSocket framing closes the connection with 1002, and others go on', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  const bob = await connect(t, server, 'bob')
  // Client frames must be masked (RFC 6455 §5.1): write an unmasked text frame under ws's feet.
  const raw = (alice.socket as unknown as { _socket: import('node:net').Socket })._socket
  raw.write(Buffer.from([0x81, 0x02, 0x7b, 0x7d]))
  t.equal((await alice.closed).code, 1002)
  t.equal((await bob.request('ping')).type, 'pong')
})

t.test('frames with __proto__ or constructor.prototype keys are refused, as Fastify refuses such bodies', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server)
  alice.sendRaw('{"type":"ping","id":"a","payload":{"__proto__":{"polluted":true}}}')
  alice.sendRaw('{"type":"ping","id":"b","payload":{"constructor":{"prototype":{"polluted":true}}}}')
  // The same keys spelled with JSON escapes decode to the same keys: they must not slip past.
  alice.sendRaw('{"type":"ping","id":"c","payload":{"\\u005f_proto__":{"polluted":true}}}')
  alice.sendRaw('{"type":"ping","id":"d","payload":{"\\u0063onstructor":{"prototype":{"polluted":true}}}}')
  for (const id of ['a', 'b', 'c', 'd']) {
    const error = await alice.waitFor((frame) => frame.id === id)
    t.equal(error.payload.code, 'invalid_message')
    t.match(error.payload.message, /forbidden/)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  t.equal((await alice.request('message', { room: 'general', content: 'the word constructor is fine' })).payload.code, 'not_in_room')
})
