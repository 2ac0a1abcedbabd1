import t from 'tap'
import { buildApp, connect, joined, sleep } from './helpers/index.js'

t.test('a connection that does not answer protocol pings is terminated, leaves its rooms, and the others get user_left', async (t) => {
  // Clients and server share one event loop here: intervals well above a GC pause keep it fair.
  const server = await buildApp(t, { heartbeatIntervalMs: 100 })
  const alice = await connect(t, server, 'alice')
  const dead = await connect(t, server, 'zombie', { autoPong: false })
  await joined(alice, 'general')
  await joined(dead, 'general')
  await joined(dead, 'other')
  t.equal((await alice.waitFor('user_joined')).payload.userId, 'zombie')

  const left = await alice.waitFor('user_left', 2000)
  t.match(left, { type: 'user_left', room: 'general', payload: { userId: 'zombie', version: Number } })
  const closed = await dead.closed
  t.equal(closed.code, 1006, 'terminated without a closing handshake')
  t.ok(alice.isOpen, 'the connection that answers pings is still there')
  t.same(await server.app.ws.members('general'), ['alice'])
  t.same(server.app.ws.rooms(), ['general'], 'its other room is gone')
  t.equal(server.app.ws.stats().connections, 1)
})

t.test('a connection that answers pings stays through many heartbeat intervals', async (t) => {
  const server = await buildApp(t, { heartbeatIntervalMs: 50 })
  const alice = await connect(t, server, 'alice')
  let pingsSeen = 0
  alice.socket.on('ping', () => { pingsSeen++ })
  while (pingsSeen < 5) await sleep(10)
  t.ok(alice.isOpen)
  t.equal((await alice.request('ping')).type, 'pong')
  t.equal(server.app.ws.stats().connections, 1)
})

t.test('heartbeatIntervalMs: 0 turns protocol pings off', async (t) => {
  const server = await buildApp(t, { heartbeatIntervalMs: 0 })
  const quiet = await connect(t, server, 'quiet', { autoPong: false })
  let pings = 0
  quiet.socket.on('ping', () => { pings++ })
  await sleep(100)
  t.equal(pings, 0)
  t.ok(quiet.isOpen)
})
