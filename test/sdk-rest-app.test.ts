/**
 * The recipe end to end: a real Fastify app (TypeBox-typed routes, `@fastify/swagger` with a
 * bearer JWT security scheme, this plugin), the one client package generated from the running app
 * by its base URL, and that client in Node: REST sign-in, socket connect, a typed reply, and one
 * token refresh shared by the REST and real-time halves (token-function calls counted).
 */
import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifySwagger from '@fastify/swagger'
import { Type } from 'typebox'
import WebSocket from 'ws'
import wsPlugin from '../plugin.js'
import { chatProtocol } from '../examples/chat/protocol.js'
import { main } from '../sdk-gen/cli.js'
import { SECRET } from './helpers/index.js'
import { loadPackage, nextEvent, tempDir } from './helpers/sdk.js'

/** Lifetime of the tokens `/sign-in` issues; tests shorten it to make tokens expire. */
let tokenSeconds = 600

const app = Fastify({ logger: false })
await app.register(fastifySwagger, {
  openapi: {
    info: { title: 'Chat app', version: '1.2.0' },
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  },
})
await app.register(fastifyJwt, { secret: SECRET })
await app.register(wsPlugin, { protocol: chatProtocol, auth: {} })

const Problem = Type.Object({ statusCode: Type.Integer(), message: Type.String() })
app.post('/sign-in', {
  schema: {
    operationId: 'signIn',
    summary: 'Sign in (development: any user name).',
    body: Type.Object({ user: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
    response: { 200: Type.Object({ token: Type.String() }), 400: Problem },
  },
}, async (request) => {
  const { user } = request.body as { user: string }
  return { token: app.jwt.sign({ sub: user }, { expiresIn: tokenSeconds }) }
})
app.get('/me', {
  schema: {
    operationId: 'whoAmI',
    security: [{ bearerAuth: [] }],
    response: { 200: Type.Object({ userId: Type.String() }), 401: Problem },
  },
  onRequest: async (request) => { await request.jwtVerify() },
}, async (request) => ({ userId: (request.user as { sub: string }).sub }))
let refusedRequests = 0
app.addHook('onResponse', async (_request, reply) => { if (reply.statusCode === 401) refusedRequests++ })
// What @fastify/swagger-ui serves by default; the generator probes it.
app.get('/documentation/json', { schema: { hide: true } as object }, async () => app.swagger())
await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())
const port = (app.server.address() as { port: number }).port
const baseUrl = `http://127.0.0.1:${port}`

const out = (await tempDir(t)) + '/app-client'
const printed: string[] = []
const exitCode = await main(['--url', baseUrl, '--out', out, '--name', '@test/app-client'], { out: (line) => printed.push(line), err: (line) => printed.push(line) })
const sdk = exitCode === 0 ? await loadPackage(out) : undefined

t.test('one base URL is enough: the command finds both documents of the running app and reports both halves', async (t) => {
  t.equal(exitCode, 0, printed.join('\n'))
  t.match(printed[0], `from ${baseUrl}/asyncapi.json + ${baseUrl}/documentation/json`)
  t.match(printed.join('\n'), /sendJoinRoom/)
  t.match(printed.join('\n'), /REST \(\d+\): .*signIn.*whoAmI/)
})

/** A root client whose token function signs in through the client's own REST half, counted. */
function appClient (options: Record<string, unknown> = {}): { client: any, calls: () => number } {
  let calls = 0
  const client = sdk.createClient({
    baseUrl,
    WebSocket,
    reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 100 }),
    token: async () => {
      calls++
      const { token } = await client.signIn({ body: { user: 'alice' } })
      return token
    },
    ...options,
  })
  t.teardown(() => client.close())
  return { client, calls: () => calls }
}

t.test('REST sign-in, a secured REST call and the socket share one token: the token function runs once', async (t) => {
  const { client, calls } = appClient()
  const [me, joined] = await Promise.all([client.whoAmI(), client.sendJoinRoom({ room: 'general' })])
  t.same(me, { userId: 'alice' }, 'the REST half sent the bearer token')
  t.same(joined.members, ['alice'], 'the socket (URL derived from baseUrl) connected as alice, typed reply')
  t.equal(client.session.userId, 'alice')
  const stats = await client.sendGetRoomStats({ room: 'general' })
  t.same(stats, { room: 'general', members: 1 }, 'an app-defined request with its typed reply')
  t.equal(calls(), 1)
})

t.test('a REST error carries the HTTP status and the parsed body', async (t) => {
  const { client } = appClient()
  const error = await client.signIn({ body: { user: '' } }).then(() => undefined, (err: unknown) => err)
  t.ok(error instanceof sdk.HttpError)
  t.equal(error.status, 400)
  t.equal(error.operation, 'signIn')
  t.match(error.body, { statusCode: 400, message: /must NOT have fewer than 1 characters/ })
  const noToken = sdk.createClient({ baseUrl, WebSocket })
  t.teardown(() => noToken.close())
  const unauthorized = await noToken.whoAmI().then(() => undefined, (err: unknown) => err)
  t.equal(unauthorized.status, 401, 'without a token function a 401 is not retried')
})

t.test('a failing token function rejects the secured REST call with its own error', async (t) => {
  const failing = sdk.createClient({ baseUrl, WebSocket, token: async () => { throw new Error('sign-in service down') } })
  t.teardown(() => failing.close())
  const error = await failing.whoAmI().then(() => undefined, (err: unknown) => err)
  t.equal(error?.message, 'sign-in service down')
  t.same(await failing.signIn({ body: { user: 'bob' } }).then(() => 'ok'), 'ok', 'public operations do not ask for the token')
})

t.test('an aborted REST call rejects with the AbortError', async (t) => {
  const { client } = appClient()
  const controller = new AbortController()
  controller.abort()
  const error = await client.whoAmI({ signal: controller.signal }).then(() => undefined, (err: unknown) => err)
  t.equal(error?.name, 'AbortError')
})

t.test('an expired token refused by the socket (4001) and by REST (401) at the same time is refreshed once', async (t) => {
  tokenSeconds = 2
  t.teardown(() => { tokenSeconds = 600 })
  const { client, calls } = appClient({ tokenRefresh: false })
  await client.sendJoinRoom({ room: 'general' })
  t.same(await client.whoAmI(), { userId: 'alice' })
  t.equal(calls(), 1)
  tokenSeconds = 600
  const refusedBefore = refusedRequests
  // At expiry the server closes the socket with 4001; a REST call made at that very moment still
  // carries the expired token and gets a 401: both halves need a fresh token at once.
  const me = new Promise((resolve, reject) => {
    const off = client.on('disconnected', ({ code }: { code: number }) => {
      if (code !== 4001) return
      off()
      client.whoAmI().then(resolve, reject)
    })
  })
  const reopened = nextEvent(client, 'rejoined', () => true, 10_000)
  t.same(await me, { userId: 'alice' }, 'the REST call was retried with the fresh token')
  t.equal(refusedRequests - refusedBefore, 1, 'after one 401')
  await reopened
  t.equal(client.state, 'open', 'the socket reconnected with the fresh token')
  t.same(await client.sendGetRoomStats({ room: 'general' }), { room: 'general', members: 1 }, 'and re-joined its room')
  t.equal(calls(), 2, 'one refresh for both halves')
})

t.test('the socket refreshing an expiring token on its open connection also renews the REST half’s token', async (t) => {
  tokenSeconds = 3
  t.teardown(() => { tokenSeconds = 600 })
  const { client, calls } = appClient()
  await client.connect()
  tokenSeconds = 600
  await nextEvent(client, 'tokenRefreshed', () => true, 10_000)
  t.equal(calls(), 2)
  await new Promise((resolve) => setTimeout(resolve, 3100)) // the first token is expired by now
  t.same(await client.whoAmI(), { userId: 'alice' }, 'REST uses the token the socket refreshed')
  t.equal(calls(), 2, 'without asking again')
})
