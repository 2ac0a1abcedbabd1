import t from 'tap'
import { buildApp, connect, sleep, tokenFor } from './helpers/index.js'

t.test('a connection whose token expires is closed with 4001 at exp', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice', { token: tokenFor('alice', { expiresInMs: 1500 }) })
  const closed = await alice.closed
  t.equal(closed.code, 4001)
  t.equal(closed.reason, 'Token expired')
})

t.test('refresh_token with a fresh token moves the expiry and keeps the connection', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice', { token: tokenFor('alice', { expiresInMs: 1500 }) })
  const reply = await alice.request('refresh_token', { token: tokenFor('alice', { expiresInMs: 60_000 }) })
  t.equal(reply.type, 'token_refreshed')
  t.ok(reply.payload.expiresAt > Date.now() + 50_000)
  await sleep(1800)
  t.ok(alice.isOpen, 'still open after the old expiry')
  t.equal((await alice.request('ping')).type, 'pong')
})

t.test('refresh_token with an invalid token is unauthorized and changes nothing', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice', { token: tokenFor('alice', { expiresInMs: 1500 }) })
  const reply = await alice.request('refresh_token', { token: tokenFor('alice', { secret: 'wrong' }) })
  t.equal(reply.payload.code, 'unauthorized')
  t.equal((await alice.closed).code, 4001, 'the original expiry still applies')
})

t.test('refresh_token with another user\'s token is forbidden and changes nothing', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice', { token: tokenFor('alice', { expiresInMs: 1500 }) })
  const reply = await alice.request('refresh_token', { token: tokenFor('mallory', { expiresInMs: 60_000 }) })
  t.equal(reply.payload.code, 'forbidden')
  t.equal((await alice.closed).code, 4001)
})

t.test('an expiry many heartbeats away still closes the connection at exp: the sweep arms its timer', async (t) => {
  // Deadlines further than two heartbeats away get no timer when set; the sweep arms them later.
  const server = await buildApp(t, { heartbeatIntervalMs: 200 })
  const alice = await connect(t, server, 'alice', { token: tokenFor('alice', { expiresInMs: 2500 }), awaitConnected: false })
  const greeting = await alice.waitFor('connected')
  const expiresAt = (greeting.payload as { expiresAt: number }).expiresAt
  const closed = await Promise.race([alice.closed, sleep(15_000).then(() => undefined)])
  t.ok(closed !== undefined, 'closed (not left open for lack of a timer)')
  t.equal(closed?.code, 4001)
  t.equal(closed?.reason, 'Token expired')
  t.ok(Date.now() >= expiresAt, 'not before exp')
})
