import t from 'tap'
import Fastify from 'fastify'
import { Type } from 'typebox'
import wsPlugin, { defineProtocol, wsOf, WsError } from '../plugin.js'
import { buildApp, connect, joined, SECRET } from './helpers/index.js'

function pollProtocol () {
  return defineProtocol()
    .server('vote_recorded', {
      durable: false,
      payload: Type.Object({ option: Type.String(), total: Type.Integer() }),
    })
    .server('poll_update', {
      payload: Type.Object({ option: Type.String(), total: Type.Integer() }),
    })
    .server('nudge', {
      durable: false,
      payload: Type.Object({ from: Type.String() }),
    })
    .client('vote', {
      payload: Type.Object({ room: Type.String(), option: Type.Union([Type.Literal('yes'), Type.Literal('no')]) }, { additionalProperties: false }),
      reply: 'vote_recorded',
      handler: async (ctx, { room, option }) => {
        const total = 1
        await ctx.broadcast(room, 'poll_update', { option, total })
        return { option, total }
      },
    })
    .client('nudge_user', {
      payload: Type.Object({ userId: Type.String() }),
      handler: async (ctx, { userId }) => {
        if (userId === ctx.userId) throw new WsError('forbidden', 'You cannot nudge yourself')
        await ctx.sendToUser(userId, 'nudge', { from: ctx.userId })
      },
    })
    .client('explode', {
      payload: Type.Object({}),
      handler: () => { throw new Error('secret internals') },
    })
    .client('whoami', {
      payload: Type.Object({}),
      reply: 'nudge',
      handler: (ctx) => {
        ctx.send('nudge', { from: 'direct' })
        return { from: ctx.connection.id }
      },
    })
}

t.test('an app-defined request gets its declared typed reply and its handler can broadcast', async (t) => {
  const protocol = pollProtocol()
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  await joined(alice, 'poll')
  await joined(bob, 'poll')
  const reply = await alice.request('vote', { room: 'poll', option: 'yes' })
  t.same(reply, { type: 'vote_recorded', id: reply.id, payload: { option: 'yes', total: 1 } })
  for (const client of [alice, bob]) {
    const update = await client.waitFor('poll_update')
    t.match(update, { room: 'poll', seq: 1, payload: { option: 'yes', total: 1 } }, 'app room broadcasts are durable by default')
  }
  const invalid = await alice.request('vote', { room: 'poll', option: 'maybe' })
  t.equal(invalid.payload.code, 'invalid_message')
})

t.test('an app request without a declared reply is acknowledged; WsError reaches the client with its code', async (t) => {
  const server = await buildApp(t, { protocol: pollProtocol() })
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  t.equal((await alice.request('nudge_user', { userId: 'bob' })).type, 'ack')
  t.same((await bob.waitFor('nudge')).payload, { from: 'alice' })
  const refused = await alice.request('nudge_user', { userId: 'alice' })
  t.same(refused.payload, { code: 'forbidden', message: 'You cannot nudge yourself' })
})

t.test('a handler that throws yields internal_error without internals, and the connection goes on', async (t) => {
  const server = await buildApp(t, { protocol: pollProtocol() })
  const alice = await connect(t, server, 'alice')
  const error = await alice.request('explode', {})
  t.same(error.payload, { code: 'internal_error', message: 'Internal error' })
  t.equal((await alice.request('ping')).type, 'pong')
  t.equal(server.app.ws.stats().errors.internal_error, 1)
})

t.test('ctx.send reaches only this connection; the reply follows it', async (t) => {
  const server = await buildApp(t, { protocol: pollProtocol() })
  const alice = await connect(t, server, 'alice')
  const alice2 = await connect(t, server, 'alice')
  const reply = await alice.request('whoami', {})
  t.equal(reply.type, 'nudge')
  t.type(reply.payload.from, 'string')
  t.same((await alice.waitFor('nudge')).payload, { from: 'direct' })
  t.ok(await alice2.expectNone('nudge'))
})

t.test('app.ws is typed by the protocol through wsOf()', async (t) => {
  const protocol = pollProtocol()
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'poll')
  const ws = wsOf(server.app, protocol)
  const seq = await ws.broadcast('poll', 'poll_update', { option: 'no', total: 2 })
  t.equal(seq, 1)
  t.match(await alice.waitFor('poll_update'), { seq: 1, payload: { option: 'no', total: 2 } })
  t.equal(await ws.broadcast('poll', 'nudge', { from: 'x' }), undefined, 'ephemeral messages get no seq')
  t.notOk('seq' in (await alice.waitFor('nudge')))
})

t.test('registration fails clearly on a bad protocol or options', async (t) => {
  t.throws(() => defineProtocol().server('message', { payload: Type.Object({}) }), { code: 'WS_ERR_DUPLICATE_MESSAGE', message: /built in/ })
  t.throws(() => defineProtocol().client('join_room', { payload: Type.Object({}), handler: () => {} }), { code: 'WS_ERR_DUPLICATE_MESSAGE' })
  t.throws(() => defineProtocol().server('x_y', { payload: Type.Object({}) }).server('x_y', { payload: Type.Object({}) }), { code: 'WS_ERR_DUPLICATE_MESSAGE', message: /declared twice/ })
  t.throws(() => defineProtocol().server('BadName', { payload: Type.Object({}) }), { code: 'WS_ERR_INVALID_MESSAGE_NAME' })
  t.throws(() => defineProtocol().server('has-dash', { payload: Type.Object({}) }), { code: 'WS_ERR_INVALID_MESSAGE_NAME' })
  t.throws(() => defineProtocol().server('big', { payload: Type.Object({ n: Type.BigInt() }) }), { code: 'WS_ERR_UNSUPPORTED_SCHEMA', message: /bigint.*#\/properties\/n/ })
  t.throws(() => defineProtocol().client('nothing', { payload: Type.Object({}), handler: undefined as never }), { code: 'WS_ERR_MISSING_HANDLER' })

  const cases: Array<[Record<string, unknown>, RegExp | string]> = [
    [{ protocol: defineProtocol().client('q', { payload: Type.Object({}), reply: 'nope' as never, handler: () => {} }) }, 'WS_ERR_UNKNOWN_REPLY'],
    [{ auth: {} }, 'WS_ERR_AUTH_CONFIG'],
    [{ auth: false, maxPayload: -1 }, 'WS_ERR_INVALID_OPTION'],
    [{ auth: false, path: 'ws' }, 'WS_ERR_INVALID_OPTION'],
    [{ auth: false, rateLimit: { burst: 0 } }, 'WS_ERR_INVALID_OPTION'],
    [{ auth: false, allowedOrigins: 'https://x' }, 'WS_ERR_INVALID_OPTION'],
  ]
  for (const [options, code] of cases) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(wsPlugin, options as never).ready() }, { code }, JSON.stringify(Object.keys(options)))
    await app.close()
  }
})

t.test('an option error names the option and what was expected', async (t) => {
  const app = Fastify()
  await t.rejects(async () => { await app.register(wsPlugin, { auth: { secret: SECRET }, maxRoomsPerConnection: 1.5 }).ready() },
    { message: 'Option "maxRoomsPerConnection" must be a positive integer; got number 1.5' })
  await app.close()
})

t.test('registering after @fastify/websocket fails clearly: its limits and close hook would silently win', async (t) => {
  const { default: fastifyWebsocket } = await import('@fastify/websocket')
  const app = Fastify()
  await app.register(fastifyWebsocket)
  await t.rejects(async () => { await app.register(wsPlugin, { auth: false }).ready() }, { code: 'WS_ERR_WEBSOCKET_REGISTERED', message: /perMessageDeflate/ })
  await app.close()
})
