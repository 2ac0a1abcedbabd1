/**
 * Liveness is not stuck behind work (issue #14, item 6): `ping` is answered out of band while a
 * handler runs, and a handler that runs past its time limit answers `handler_timeout` and frees
 * the connection.
 */
import t from 'tap'
import { Type } from 'typebox'
import { defineProtocol } from '../plugin.js'
import { buildApp, connect, joined } from './helpers/index.js'

const Empty = Type.Object({}, { additionalProperties: false })
const gates: Array<() => void> = []
/** A handler that waits until the test opens its gate. */
const gated = async (): Promise<void> => { await new Promise<void>((resolve) => gates.push(resolve)) }
const openGates = (): void => { for (const open of gates.splice(0)) open() }

const protocol = defineProtocol()
  .server('done', { payload: Type.Object({ late: Type.Boolean() }), durable: false })
  .client('slow', { payload: Empty, handler: gated })
  .client('stuck', { payload: Empty, timeoutMs: 50, handler: gated })
  .client('stuck_reply', { payload: Empty, reply: 'done', timeoutMs: 50, handler: async () => { await gated(); return { late: true } } })
  .client('unlimited', { payload: Empty, timeoutMs: 0, handler: gated })

t.afterEach(openGates)

t.test('a ping sent while a slow handler runs is answered at once, before the handler\'s own reply', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  alice.send('slow', {}, 's1')
  const pong = await alice.request('ping', {})
  t.equal(pong.type, 'pong')
  t.equal(gates.length, 1, 'the slow handler is still running')
  t.same(alice.pending().map((frame) => frame.id), [], 'nothing else answered yet')
  openGates()
  t.equal((await alice.waitFor((frame) => frame.id === 's1')).type, 'ack', 'the slow request is answered when it finishes')
})

t.test('frames other than ping still wait for the running handler, in order', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  alice.send('slow', {}, 's1')
  alice.send('join_room', { room: 'general' }, 'j1')
  t.ok(await alice.expectNone('room_joined', 50), 'the join waits behind the handler')
  openGates()
  t.same([(await alice.waitFor((f) => f.id !== undefined)).id, (await alice.waitFor((f) => f.id !== undefined)).id], ['s1', 'j1'])
})

t.test('a handler that runs past its timeoutMs answers handler_timeout, and the connection processes its next frames', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  alice.send('stuck_reply', {}, 'x1')
  const error = await alice.waitFor((frame) => frame.id === 'x1')
  t.equal(error.type, 'error')
  t.equal(error.payload.code, 'handler_timeout')
  t.match(error.payload.message, /stuck_reply.*50 ms/)
  t.equal((await joined(alice, 'general')).type, 'room_joined', 'the next frame is processed while the handler still runs')
  openGates()
  t.ok(await alice.expectNone('done', 50), 'its late result is discarded')
  t.equal(server.app.ws.stats().errors.handler_timeout, 1)
})

t.test('the plugin\'s handlerTimeoutMs applies to handlers without their own, and timeoutMs: 0 turns the limit off', async (t) => {
  const server = await buildApp(t, { protocol, handlerTimeoutMs: 50 })
  const alice = await connect(t, server, 'alice')
  t.equal((await alice.request('slow', {})).payload.code, 'handler_timeout')
  alice.send('unlimited', {}, 'u1')
  t.ok(await alice.expectNone('error', 150), 'no limit: still running after three times the plugin\'s limit')
  openGates()
  t.equal((await alice.waitFor((frame) => frame.id === 'u1')).type, 'ack')
})

t.test('an invalid handlerTimeoutMs or message timeoutMs fails at registration', async (t) => {
  await t.rejects(buildApp(t, { handlerTimeoutMs: -1 }), { code: 'WS_ERR_INVALID_OPTION' })
  t.throws(() => defineProtocol().client('x', { payload: Empty, timeoutMs: 1.5, handler: () => {} }), { code: 'WS_ERR_INVALID_OPTION' })
})

t.test('a built-in join slower than handlerTimeoutMs is answered once, by its own room_joined', async (t) => {
  const server = await buildApp(t, {
    handlerTimeoutMs: 100,
    authorizeJoin: async () => { await new Promise((resolve) => setTimeout(resolve, 300)); return true },
  })
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('join_room', { room: 'slow' })
  t.equal(reply.type, 'room_joined', 'the join\'s own reply, not handler_timeout')
  t.ok(await alice.expectNone('error', 200), 'and no second answer (an error) to the same request')
})

t.test('a ping answered out of band is counted by type, in stats() and in the scrape alike', async (t) => {
  const server = await buildApp(t, { protocol, metrics: true })
  const alice = await connect(t, server, 'alice')
  alice.send('slow', {}, 's1')
  t.equal((await alice.request('ping', {})).type, 'pong')
  t.equal(gates.length, 1, 'answered while the slow handler still runs (out of band)')
  openGates()
  await alice.waitFor((frame) => frame.id === 's1')
  t.equal((await alice.request('ping', {})).type, 'pong', 'and one through the queue')
  const stats = server.app.ws.stats()
  t.same(stats.messagesInByType, { slow: 1, ping: 2 }, 'both pings counted, once each')
  const scrape = (await server.app.inject({ method: 'GET', url: '/metrics' })).body
  const sample = (type: string): number => Number(new RegExp(`^ws_messages_in_total\\{type="${type}"\\} (\\d+)$`, 'm').exec(scrape)?.[1])
  t.equal(sample('ping'), stats.messagesInByType.ping, 'the scrape agrees with stats()')
  t.equal(sample('slow'), stats.messagesInByType.slow)
})
