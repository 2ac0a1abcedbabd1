/**
 * The REST history route over real HTTP: paging backwards with `before`/`limit`, frames exactly as
 * the socket delivered them, the app's own store behind the adapter's bounded history, the socket's
 * auth and `authorizeJoin`, and the route in the OpenAPI document of `@fastify/swagger`.
 */
import t from 'tap'
import fastifySwagger from '@fastify/swagger'
import { MemoryAdapter, wsOf, type StoredRoomMessage, type WsPluginOptions } from '../plugin.js'
import { chatProtocol } from '../examples/chat/protocol.js'
import { buildApp, connect, joined, tokenFor, until, type TestApp } from './helpers/index.js'
import { RedisProxy, useRedis } from './helpers/redis.js'

async function history (target: TestApp, path: string, token: string | null = tokenFor('alice')): Promise<{ status: number, body: any }> {
  const response = await fetch(`http://127.0.0.1:${target.port}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } })
  return { status: response.status, body: await response.json() }
}

async function chatApp (options: WsPluginOptions = {}): Promise<TestApp> {
  return await buildApp(t, { protocol: chatProtocol, history: true, ...options })
}

async function say (target: TestApp, room: string, count: number, from = 1): Promise<void> {
  const ws = wsOf(target.app, chatProtocol)
  for (let i = from; i < from + count; i++) await ws.broadcast(room, 'message', { userId: 'bob', content: `m${i}`, ts: i })
}

const contents = (body: { messages: Array<{ payload: { content: string } }> }): string[] => body.messages.map((m) => m.payload.content)

t.test('pages go backwards from the newest: next is the before of the page before, null at the start', async (t) => {
  const target = await chatApp()
  await say(target, 'general', 7)
  const first = await history(target, '/rooms/general/history?limit=3')
  t.equal(first.status, 200)
  t.same(contents(first.body), ['m5', 'm6', 'm7'])
  t.equal(first.body.next, 5)
  t.equal(first.body.room, 'general')
  const second = await history(target, `/rooms/general/history?limit=3&before=${first.body.next}`)
  t.same(contents(second.body), ['m2', 'm3', 'm4'])
  t.equal(second.body.next, 2)
  const last = await history(target, `/rooms/general/history?limit=3&before=${second.body.next}`)
  t.same(contents(last.body), ['m1'])
  t.equal(last.body.next, null)
  t.same((await history(target, '/rooms/empty/history')).body, { room: 'empty', messages: [], next: null })
})

t.test('a page holds the frames exactly as the socket delivered them', async (t) => {
  const target = await chatApp()
  const alice = await connect(t, target, 'alice')
  await joined(alice, 'general')
  await alice.request('message', { room: 'general', content: 'hello' })
  const delivered = await alice.waitFor((frame) => frame.type === 'message')
  const { body } = await history(target, '/rooms/general/history')
  t.same(body.messages, [delivered])
  t.same(body.messages[0], { type: 'message', room: 'general', seq: 1, payload: { userId: 'alice', content: 'hello', ts: delivered.payload.ts } })
})

t.test('older messages come from the app\'s own store once the adapter\'s history ends', async (t) => {
  const stored: StoredRoomMessage[] = Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, type: 'message', payload: { userId: 'bob', content: `m${i + 1}`, ts: i + 1 } }))
  const asked: Array<{ before: number, limit: number, user: string }> = []
  const target = await chatApp({
    adapter: new MemoryAdapter({ historySize: 4 }),
    history: {
      load: async (room, { before, limit, user }) => {
        asked.push({ before, limit, user: user.id })
        return room === 'general' ? stored.filter((m) => m.seq < before).slice(-limit).reverse() : []
      },
    },
  })
  await say(target, 'general', 10)
  const seen: string[] = []
  let path = '/rooms/general/history?limit=3'
  for (;;) {
    const { body } = await history(target, path)
    seen.unshift(...contents(body))
    if (body.next === null) break
    path = `/rooms/general/history?limit=3&before=${body.next}`
  }
  t.same(seen, stored.map((m) => (m.payload as { content: string }).content), 'every message once, in order')
  t.same(asked[0], { before: 7, limit: 2, user: 'alice' }, 'the store is asked only below what the adapter keeps')
  const mixed = await history(target, '/rooms/general/history?before=8&limit=4')
  t.same(mixed.body.messages.map((m: { seq: number }) => m.seq), [4, 5, 6, 7])
  t.same(mixed.body.messages[0], { type: 'message', room: 'general', seq: 4, payload: stored[3]!.payload }, 'stored messages get the socket\'s frame shape')
})

t.test('a message broadcast past a user is not in that user\'s history', async (t) => {
  const target = await chatApp()
  await say(target, 'general', 1)
  await wsOf(target.app, chatProtocol).broadcast('general', 'message', { userId: 'bob', content: 'not for carol', ts: 2 }, { except: { users: ['carol'] } })
  t.same(contents((await history(target, '/rooms/general/history', tokenFor('carol'))).body), ['m1'])
  t.same(contents((await history(target, '/rooms/general/history', tokenFor('dave'))).body), ['m1', 'not for carol'])
})

t.test('the route asks for the socket\'s token and its authorizeJoin', async (t) => {
  const target = await chatApp({ authorizeJoin: (user, room) => room !== 'staff' || user.id === 'boss' })
  await say(target, 'staff', 1)
  const missing = await history(target, '/rooms/general/history', null)
  t.equal(missing.status, 401)
  t.same(missing.body, { code: 'unauthorized', message: 'Token missing' })
  t.equal((await history(target, '/rooms/general/history', 'not-a-token')).status, 401)
  t.same(await history(target, '/rooms/staff/history'), { status: 403, body: { code: 'forbidden', message: 'Not allowed in room "staff"' } })
  t.same(contents((await history(target, '/rooms/staff/history', tokenFor('boss'))).body), ['m1'])
})

t.test('bad parameters are refused with invalid_message', async (t) => {
  const target = await chatApp({ history: { maxLimit: 20 } })
  for (const path of ['/rooms/general/history?limit=21', '/rooms/general/history?limit=0', '/rooms/general/history?before=x', '/rooms/gen%20eral/history']) {
    const { status, body } = await history(target, path)
    t.equal(status, 400, path)
    t.equal(body.code, 'invalid_message', path)
  }
})

t.test('room names with slashes and hashes work URL-encoded', async (t) => {
  const target = await chatApp()
  await say(target, 'team/a#1', 2)
  t.same(contents((await history(target, `/rooms/${encodeURIComponent('team/a#1')}/history`)).body), ['m1', 'm2'])
})

t.test('a security scheme missing from the @fastify/swagger config is named in a clear error', async (t) => {
  const target = await buildApp(t, { protocol: chatProtocol, history: true }, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 't', version: '1' } } })
  })
  t.throws(() => target.app.swagger(), { code: 'WS_ERR_INVALID_OPTION', message: /history\.security names the OpenAPI security scheme "bearerAuth".*securitySchemes\.bearerAuth/ })
  const named = await buildApp(t, { protocol: chatProtocol, history: { security: [{ jwt: [] }] } }, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 't', version: '1' }, components: { securitySchemes: { jwt: { type: 'http', scheme: 'bearer' } } } } })
  })
  t.same((named.app.swagger() as any).paths['/rooms/{room}/history'].get.security, [{ jwt: [] }])
})

t.test('the route is off by default', async (t) => {
  const target = await buildApp(t, { protocol: chatProtocol })
  t.equal((await fetch(`http://127.0.0.1:${target.port}/rooms/general/history`)).status, 404)
})

t.test('@fastify/swagger documents the route with its typed page, errors and bearer security', async (t) => {
  const target = await buildApp(t, { protocol: chatProtocol, history: { path: '/chat/:room/older' } }, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 't', version: '1' }, components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } } } })
  })
  const openapi = target.app.swagger() as any
  const operation = openapi.paths['/chat/{room}/older'].get
  t.equal(operation.operationId, 'getRoomHistory')
  t.same(operation.security, [{ bearerAuth: [] }])
  t.same(operation.parameters.map((p: { name: string, in: string }) => `${p.in}:${p.name}`).sort(), ['path:room', 'query:before', 'query:limit'])
  const page = operation.responses['200'].content['application/json'].schema
  const frames = page.properties.messages.items.anyOf.map((frame: { title: string }) => frame.title)
  t.same(frames, ['HistoryMessageFrame', 'HistoryReactionFrame'], 'every durable server message, built-in and app-defined')
  t.same(operation.responses['401'].content['application/json'].schema.properties.code.enum.includes('unauthorized'), true)
})

const redis = await useRedis(t)
if (redis !== undefined) {
  t.test('with Redis, two instances page the same history, and the route answers 503 while Redis is unreachable', async (t) => {
    const keyPrefix = `${redis.prefix}${Math.random().toString(36).slice(2, 8)}:`
    const proxy = new RedisProxy()
    await proxy.up()
    t.teardown(() => proxy.down())
    const a = await chatApp({ adapter: redis.adapter({ keyPrefix }) })
    const b = await chatApp({ adapter: redis.adapter({ keyPrefix, url: proxy.url, closeTimeoutMs: 300 }) })
    await say(a, 'general', 5)
    const first = await history(b, '/rooms/general/history?limit=3')
    t.same(contents(first.body), ['m3', 'm4', 'm5'])
    t.same(contents((await history(b, `/rooms/general/history?limit=3&before=${first.body.next}`)).body), ['m1', 'm2'])
    t.same((await history(a, '/rooms/general/history?limit=3')).body, first.body, 'the same page from either instance')
    await proxy.down()
    await until(() => (b.app.ws.stats().adapter as { connected?: boolean }).connected === false, 'the outage noticed')
    const down = await history(b, '/rooms/general/history')
    t.equal(down.status, 503)
    t.equal(down.body.code, 'unavailable')
  })
}
