/**
 * What a new user of the package runs into (issue #11, items 9 and 10): each surprise is either
 * handled or answered with a coded error that names the fix.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import WebSocket from 'ws'
import { Type } from 'typebox'
import wsPlugin, { defineProtocol } from '../plugin.js'
import { buildApp, connect, tokenFor, SECRET } from './helpers/index.js'

t.test('auth.secret next to an app-registered @fastify/jwt is refused with the fix named', async (t) => {
  const { default: fastifyJwt } = await import('@fastify/jwt')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: 'the-apps-secret' })
  await t.rejects(async () => { await app.register(wsPlugin, { auth: { secret: SECRET } }) },
    { code: 'WS_ERR_AUTH_CONFIG', message: /auth\.secret.*@fastify\/jwt.*remove auth\.secret/ })
})

t.test('a failed authentication is logged at info with its reason, never with the token', async (t) => {
  let logged = ''
  const stream = new Writable({ write (chunk, _encoding, done) { logged += String(chunk); done() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: { secret: SECRET } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const token = tokenFor('mallory', { secret: 'another-secret' })
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`)
  const code = await new Promise<number>((resolve) => socket.once('close', (closeCode) => resolve(closeCode)))
  t.equal(code, 4001)
  const line = logged.split('\n').map((text) => text === '' ? {} : JSON.parse(text) as Record<string, unknown>)
    .find((entry) => entry.msg === 'WebSocket authentication failed')
  t.ok(line, 'the failure is logged')
  t.equal(line?.level, 30, 'at info')
  t.equal(line?.reason, 'Token invalid')
  t.match(line?.cause, /SIGNATURE/, 'with the verifier\'s code')
  t.notMatch(logged, token.split('.')[2]!, 'no token in the log')
})

t.test('a numeric sub claim is accepted as a string user id', async (t) => {
  const server = await buildApp(t)
  const client = await connect(t, server, 'x', { token: tokenFor('x', { claims: { sub: 42 } }), awaitConnected: false })
  t.equal((await client.waitFor('connected')).payload.userId, '42')
})

t.test('app.ws before ready() rejects with WS_ERR_NOT_READY naming the fix', async (t) => {
  const protocol = defineProtocol().server('note', { payload: Type.Object({ text: Type.String() }) })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: false, protocol })
  await t.rejects(app.ws.broadcast('general', 'note' as never, { text: 'hi' } as never), { code: 'WS_ERR_NOT_READY', message: /after `await app\.ready\(\)`/ })
  await t.rejects(app.ws.sendToUser('u', 'note' as never, { text: 'hi' } as never), { code: 'WS_ERR_NOT_READY' })
  await app.ready()
  await app.ws.broadcast('general', 'note' as never, { text: 'hi' } as never)
})

t.test('an unknown option key (a typo in plain JavaScript) is refused, naming the key and the nearest known one', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ auth: false, rateLimt: false }, /Unknown option "rateLimt": did you mean "rateLimit"\?/],
    [{ auth: { secret: SECRET, getUserID: () => 'x' } }, /Unknown option "auth\.getUserID": did you mean "auth\.getUserId"|"auth\.getUserID".*"getUserId"/],
    [{ auth: false, rateLimit: { persecond: 5 } }, /"rateLimit\.persecond".*"perSecond"/],
    [{ auth: false, asyncapi: { info: { titel: 'x' } } }, /"asyncapi\.info\.titel".*"title"/],
    [{ auth: false, frobnicate: 1 }, /"frobnicate": known options are .*"maxPayload"/],
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(wsPlugin, options) }, { code: 'WS_ERR_INVALID_OPTION', message }, JSON.stringify(Object.keys(options)))
  }
})

t.test('Fastify\'s own register options (prefix, logLevel) are not mistaken for typos', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: false, prefix: '/rt', logLevel: 'warn' } as never)
  await app.ready()
  t.ok(app.hasRoute({ method: 'GET', url: '/ws' }), 'fastify-plugin skips the prefix, as for any non-encapsulated plugin')
})

t.test('registering the plugin twice says so with a code', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: false })
  await t.rejects(async () => { await app.register(wsPlugin, { auth: false, path: '/other' }) }, { code: 'WS_ERR_ALREADY_REGISTERED' })
})

t.test('a WebSocket path the app already routes names the option that moves it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/ws', async () => 'taken')
  await t.rejects(async () => { await app.register(wsPlugin, { auth: false }) }, { code: 'WS_ERR_ROUTE_TAKEN', message: /"path"/ })
})

t.test('app.close() also closes sockets on the app\'s own WebSocket routes', async (t) => {
  const app = Fastify()
  await app.register(wsPlugin, { auth: false, shutdownTimeoutMs: 2000 })
  app.get('/echo', { websocket: true }, (socket) => { socket.on('message', (data) => socket.send(data)) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const socket = new WebSocket(`ws://127.0.0.1:${port}/echo`)
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  await app.close()
  t.equal(await closed, 1001, 'closed as going away')
})
