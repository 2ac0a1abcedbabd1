import t from 'tap'
import WebSocket from 'ws'
import { Type } from 'typebox'
import { defineProtocol } from '../plugin.js'
import { buildChatApp, DEV_JWT_SECRET } from '../examples/chat/app.js'
import { compileContract } from './helpers/contract.js'
import { buildApp, connect, joined, TestClient, tokenFor } from './helpers/index.js'

// A handler whose reply breaks the declared reply schema, on a server that does not validate what
// it sends (`validateOutgoing: false`, the production default), so only the contract check can catch it.
const sloppy = defineProtocol()
  .server('stats', { payload: Type.Object({ members: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), examples: [{ members: 2 }] })
  .client('get_stats', {
    payload: Type.Object({}),
    reply: 'stats',
    handler: () => ({ members: 2, memberList: ['alice'] }) as never,
  })

t.test('the contract accepts every example frame of the document it is built from', async (t) => {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, ws: { heartbeatIntervalMs: 0 } })
  t.teardown(() => app.close())
  await app.ready()
  const doc = app.asyncapi()
  const contract = compileContract(doc)
  for (const [key, message] of Object.entries(doc.components.messages)) {
    if (!key.startsWith('server.')) continue
    for (const example of message.examples as Array<{ payload: unknown }>) t.equal(contract.check(example.payload), undefined, key)
  }
})

t.test('the contract rejects an undescribed type, a payload off its schema and a stray envelope key', async (t) => {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, ws: { heartbeatIntervalMs: 0 } })
  t.teardown(() => app.close())
  await app.ready()
  const contract = compileContract(app.asyncapi())
  t.match(contract.check({ type: 'shout', payload: {} }), /"shout", which its AsyncAPI document does not describe/)
  t.match(contract.check({ type: 'join_room', payload: { room: 'general' } }), /does not describe/, 'client messages are not server frames')
  t.match(contract.check({ type: 'pong', payload: { ts: 'now' } }), /server\.pong.*\/payload\/ts/)
  t.match(contract.check({ type: 'pong', payload: { ts: 1, extra: true } }), /server\.pong/)
  t.match(contract.check({ type: 'message', room: 'general', seq: 1.5, payload: { userId: 'a', content: 'x', ts: 1 } }), /\/seq/)
  t.match(contract.check({ type: 'ack', payload: {}, debug: 1 }), /server\.ack/)
  t.match(contract.check({ payload: {} }), /without a string "type"/)
  t.equal(contract.check({ type: 'reaction', room: 'general', seq: 3, payload: { userId: 'bob', seq: 2, emoji: '👍' } }), undefined)
})

t.test('a client made by connect() reports a frame its app\'s document does not allow through t.fail', async (t) => {
  const server = await buildApp(t, { protocol: sloppy, validateOutgoing: false })
  const failures: string[] = []
  const client = await connect({ teardown: (fn) => t.teardown(fn), fail: (message) => failures.push(message) }, server, 'alice')
  const reply = await client.request('get_stats', {})
  t.equal(reply.type, 'stats')
  t.equal(failures.length, 1)
  t.match(failures[0], /frame "stats" does not match server\.stats/)
  t.same(client.violations, failures)
})

t.test('a client built directly on a socket checks frames against the buildApp() app on that port', async (t) => {
  const server = await buildApp(t, { protocol: sloppy, validateOutgoing: false })
  const client = new TestClient(new WebSocket(`${server.url}?token=${tokenFor('alice')}`))
  t.teardown(() => client.close())
  await client.waitFor('connected')
  client.send('get_stats', {}, 'r1')
  await client.waitFor((frame) => frame.id === 'r1')
  // Without an onViolation callback, the next wait reports it.
  await t.rejects(client.waitFor('anything'), /Contract violation: frame "stats"/)
})

t.test('frames that follow the document raise no violation', async (t) => {
  const server = await buildApp(t, { protocol: sloppy })
  const failures: string[] = []
  const tap = { teardown: (fn: () => unknown) => t.teardown(fn), fail: (message: string) => failures.push(message) }
  const alice = await connect(tap, server, 'alice')
  const bob = await connect(tap, server, 'bob')
  await joined(alice, 'general')
  await joined(bob, 'general')
  await alice.request('message', { room: 'general', content: 'hi' })
  await bob.waitFor('message')
  t.equal((await alice.request('nope', {})).payload.code, 'unknown_type')
  t.same(failures, [])
})
