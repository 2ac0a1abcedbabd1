import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { Type } from 'typebox'
import wsPlugin, { defineProtocol, WsError } from '../plugin.js'
import { connect, joined, SECRET, type TestApp } from './helpers/index.js'

const Empty = Type.Object({}, { additionalProperties: false })
let release: () => void = () => {}

const protocol = defineProtocol()
  .server('fine', { payload: Empty, durable: false })
  .client('explode', { payload: Empty, handler: () => { throw new Error('kaboom: /srv/app/secret.ts:12') } })
  .client('reject', { payload: Empty, handler: async () => { throw new TypeError('async kaboom') } })
  .client('throw_string', { payload: Empty, handler: () => { throw 'not an Error' as unknown as Error } })
  .client('refuse', { payload: Empty, handler: () => { throw new WsError('forbidden', 'Not for you') } })
  .client('forget_reply', { payload: Empty, reply: 'fine', handler: async () => undefined as never })
  .client('unencodable_sync', { payload: Empty, reply: 'fine', handler: () => ({ n: 1n }) as never })
  .client('unencodable_async', { payload: Empty, reply: 'fine', handler: async () => { const cycle: Record<string, unknown> = {}; cycle.self = cycle; return cycle as never } })
  .client('late_failure', {
    payload: Empty,
    handler: async () => {
      await new Promise<void>((resolve) => { release = resolve })
      throw new Error('failed after the client left')
    },
  })

interface LogLine { level: number, msg: string, connectionId?: string, userId?: string, messageType?: string, requestId?: string, err?: { message: string, type: string, stack?: string } }

/** A listening app whose Fastify logger writes JSON lines into `lines`. */
async function buildLoggedApp (t: { teardown(fn: () => unknown): void }): Promise<TestApp & { lines: LogLine[] }> {
  const lines: LogLine[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine)
      callback()
    },
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  await app.register(wsPlugin, { auth: { secret: SECRET }, protocol })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { app, port, url: `ws://127.0.0.1:${port}/ws`, lines }
}

const failures = (lines: LogLine[]): LogLine[] => lines.filter((line) => line.msg === 'message handler failed')

for (const [type, message] of [['explode', 'kaboom: /srv/app/secret.ts:12'], ['reject', 'async kaboom']] as const) {
  t.test(`a handler that ${type === 'explode' ? 'throws' : 'rejects'} yields internal_error for that request only, without the error's text or stack, and is logged with context`, async (t) => {
    const server = await buildLoggedApp(t)
    const alice = await connect(t, server, 'alice', { awaitConnected: false })
    const connectionId = (await alice.waitFor('connected')).payload.connectionId as string
    const bob = await connect(t, server, 'bob')
    await joined(alice, 'general')
    await joined(bob, 'general')

    const reply = await alice.request(type, {})
    t.same(reply, { type: 'error', id: reply.id, payload: { code: 'internal_error', message: 'Internal error' } })
    t.notMatch(JSON.stringify(reply), /kaboom|secret|\bat\b|\.ts/, 'nothing of the error reaches the client')

    const [line, ...more] = failures(server.lines)
    t.same(more, [], 'logged once')
    t.match(line, { level: 50, connectionId, userId: 'alice', messageType: type, requestId: reply.id, err: { message } })
    t.match(line?.err?.stack, /handler-errors\.test\.ts/, 'the log keeps the stack')

    // The server goes on: same connection, other connections, chat.
    t.equal((await alice.request('ping')).type, 'pong')
    t.equal((await alice.request('message', { room: 'general', content: 'still here' })).type, 'ack')
    t.equal((await bob.waitFor('message')).payload.content, 'still here')
    t.equal(server.app.ws.stats().errors.internal_error, 1)
  })
}

t.test('a thrown non-Error is an internal_error too', async (t) => {
  const server = await buildLoggedApp(t)
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('throw_string', {})
  t.equal(reply.payload.code, 'internal_error')
  t.equal(failures(server.lines).length, 1)
  t.ok(alice.isOpen)
})

t.test('a thrown WsError reaches the client with its code and message and is not logged as a failure', async (t) => {
  const server = await buildLoggedApp(t)
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('refuse', {})
  t.same(reply.payload, { code: 'forbidden', message: 'Not for you' })
  t.same(failures(server.lines), [])
})

t.test('a handler that declares a reply and returns nothing is an internal_error, logged', async (t) => {
  const server = await buildLoggedApp(t)
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('forget_reply', {})
  t.equal(reply.payload.code, 'internal_error')
  t.match(failures(server.lines)[0], { messageType: 'forget_reply', err: { message: /declares reply "fine" but returned nothing/ } })
})

t.test('a handler that fails after its client disconnected is still logged', async (t) => {
  const server = await buildLoggedApp(t)
  const alice = await connect(t, server, 'alice')
  alice.send('late_failure', {}, 'l1')
  while (server.app.ws.stats().messagesIn < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  await alice.close()
  while (server.app.ws.stats().connections > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  release()
  while (failures(server.lines).length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  t.match(failures(server.lines)[0], { userId: 'alice', messageType: 'late_failure', err: { message: 'failed after the client left' } })
})

t.test('a client breaking the WebSocket protocol is closed with its code and logged at info, not as a server error', async (t) => {
  const server = await buildLoggedApp(t)
  const bad = await connect(t, server, 'mallory', { awaitConnected: false })
  await bad.waitFor('connected')
  bad.sendRaw(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false })
  t.equal((await bad.closed).code, 1007)
  while (!server.lines.some((line) => line.msg === 'client broke the WebSocket protocol')) await new Promise((resolve) => setTimeout(resolve, 5))
  t.same(server.lines.filter((line) => line.level >= 50), [], 'no error-level line')
  t.match(server.lines.find((line) => line.msg === 'client broke the WebSocket protocol'), { level: 30, err: { message: /UTF-8/ } })
})

t.test('a reply JSON cannot encode (bigint, cycle) is an internal_error for that request, and the server goes on', async (t) => {
  const server = await buildLoggedApp(t)
  const alice = await connect(t, server, 'alice')
  for (const type of ['unencodable_sync', 'unencodable_async']) {
    const reply = await alice.request(type, {})
    t.same(reply.payload, { code: 'internal_error', message: 'Internal error' }, type)
  }
  t.equal((await alice.request('ping')).type, 'pong')
  t.equal(failures(server.lines).length, 2, 'both logged')
})
