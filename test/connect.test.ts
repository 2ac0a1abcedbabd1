import t from 'tap'
import WebSocket from 'ws'
import { buildApp, connect, tokenFor, TestClient, SECRET } from './helpers/index.js'

t.test('a client with a valid token gets `connected` with its ids and the token expiry first', async (t) => {
  const server = await buildApp(t)
  const client = await connect(t, server, 'alice', { token: tokenFor('alice', { expiresInMs: 60_000 }), awaitConnected: false })
  const first = await client.waitFor(() => true)
  t.equal(first.type, 'connected')
  t.equal(first.payload.userId, 'alice')
  t.type(first.payload.connectionId, 'string')
  t.type(first.payload.expiresAt, 'number')
  t.ok(first.payload.expiresAt > Date.now())
})

t.test('a token without expiry gives a `connected` without expiresAt', async (t) => {
  const server = await buildApp(t)
  const client = await connect(t, server, 'alice', { token: tokenFor('alice') })
  t.ok(client)
  const other = await connect(t, server, 'bob', { awaitConnected: false })
  const frame = await other.waitFor('connected')
  t.notOk('expiresAt' in frame.payload)
})

t.test('the token is accepted from an Authorization: Bearer header', async (t) => {
  const server = await buildApp(t)
  const client = await connect(t, server, 'bob', { token: null, headers: { authorization: `Bearer ${tokenFor('bob')}` }, awaitConnected: false })
  const frame = await client.waitFor('connected')
  t.equal(frame.payload.userId, 'bob')
})

for (const [name, token, reason] of [
  ['missing', null, 'Token missing'],
  ['malformed', 'not-a-jwt', 'Token invalid'],
  ['badly signed', tokenFor('eve', { secret: 'other-secret' }), 'Token invalid'],
  ['expired', tokenFor('eve', { expiresInMs: 1, claims: { iat: Math.floor(Date.now() / 1000) - 60 } }), 'Token expired'],
] as const) {
  t.test(`a ${name} token closes the socket with 4001 before any frame`, async (t) => {
    const server = await buildApp(t)
    const client = await connect(t, server, 'eve', { token, awaitConnected: false })
    const closed = await client.closed
    t.equal(closed.code, 4001)
    t.equal(closed.reason, reason)
    t.same(client.frames, [], 'no frame before the close')
  })
}

t.test('frames sent right after the upgrade are not lost while auth runs', async (t) => {
  // A slow verifier widens the window in which early frames could be dropped.
  const server = await buildApp(t, {
    auth: {
      verify: async (token) => {
        await new Promise((resolve) => setTimeout(resolve, 50))
        return { sub: token }
      },
    },
  })
  const socket = new WebSocket(`${server.url}?token=carol`)
  const client = new TestClient(socket)
  t.teardown(() => client.close())
  socket.on('open', () => {
    for (let i = 0; i < 5; i++) socket.send(JSON.stringify({ type: 'ping', id: `p${i}` }))
  })
  const first = await client.waitFor(() => true)
  t.equal(first.type, 'connected', 'the greeting comes first')
  t.equal(first.payload.userId, 'carol')
  for (let i = 0; i < 5; i++) {
    const pong = await client.waitFor((frame) => frame.id === `p${i}`)
    t.equal(pong.type, 'pong', `early ping ${i} answered, in order`)
  }
})

t.test('with auth off each connection is its own anonymous user', async (t) => {
  const server = await buildApp(t, { auth: false })
  const a = await connect(t, server, 'x', { token: null, awaitConnected: false })
  const b = await connect(t, server, 'x', { token: null, awaitConnected: false })
  const idA = (await a.waitFor('connected')).payload.userId
  const idB = (await b.waitFor('connected')).payload.userId
  t.match(idA, /^anonymous:/)
  t.not(idA, idB)
})

t.test('the plugin reuses an @fastify/jwt the app registered itself', async (t) => {
  const { default: fastifyJwt } = await import('@fastify/jwt')
  const server = await buildApp(t, { auth: {} }, async (app) => {
    await app.register(fastifyJwt, { secret: SECRET })
  })
  const client = await connect(t, server, 'dave')
  t.ok(client.isOpen)
})

t.test('getUserId maps claims to the user id', async (t) => {
  const server = await buildApp(t, { auth: { secret: SECRET, getUserId: (claims) => String(claims.uid) } })
  const client = await connect(t, server, 'ignored', { token: tokenFor('ignored', { claims: { uid: 'u-42' } }), awaitConnected: false })
  t.equal((await client.waitFor('connected')).payload.userId, 'u-42')
})

t.test('tokens in the query string never reach the request log, however the key is spelled', async (t) => {
  const { Writable } = await import('node:stream')
  const Fastify = (await import('fastify')).default
  const wsPlugin = (await import('../plugin.js')).default
  let logged = ''
  const stream = new Writable({ write (chunk, _encoding, done) { logged += String(chunk); done() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(wsPlugin, { auth: { secret: SECRET } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const port = (app.server.address() as { port: number }).port
  const token = tokenFor('alice')
  for (const key of ['token', '%74oken']) {
    const client = new TestClient(new WebSocket(`ws://127.0.0.1:${port}/ws?x=1&${key}=${token}`))
    t.equal((await client.waitFor('connected')).payload.userId, 'alice', `authenticated with ?${key}=`)
    await client.close()
  }
  t.notMatch(logged, token.slice(0, 40), 'no token in the log')
  t.match(logged, /"url":"\/ws\?x=1&token=\[redacted\]"/)
  t.match(logged, /"url":"\/ws\?x=1&%74oken=\[redacted\]"/)
})
