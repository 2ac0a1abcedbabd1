/**
 * The example stores every chat message through its hooks (examples/chat/storage.ts), here in its
 * default store, an SQLite file: history outlives a restart, a message the database refuses is
 * sent to nobody (the sender gets `store_unavailable`), and a resent message is stored once.
 */
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildChatApp } from '../examples/chat/app.js'
import { connect, joined, SECRET, tokenFor, type TestApp, type TestClient } from './helpers/index.js'
import { tempDir } from './helpers/sdk.js'

async function start (file: string): Promise<TestApp> {
  const app = await buildChatApp({ jwtSecret: SECRET, logger: false, storage: { sqliteFile: file } })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  return { app, port, url: `ws://127.0.0.1:${port}/ws` }
}

async function history (app: FastifyInstance, room: string, query = ''): Promise<{ messages: Array<{ seq: number, payload: { userId: string, content: string } }>, next: number | null }> {
  const reply = await app.inject({ url: `/rooms/${room}/history${query}`, headers: { authorization: `Bearer ${tokenFor('carol')}` } })
  if (reply.statusCode !== 200) throw new Error(`history: HTTP ${reply.statusCode} ${reply.body}`)
  return reply.json()
}

async function say (client: TestClient, content: string, idempotencyKey?: string) {
  return await client.request('message', { room: 'general', content, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) })
}

t.test('history survives a restart of the server: the history route and a new join see it, in seq order, and seq goes on', async (t) => {
  const file = join(await tempDir(t, 'chat-db-'), 'chat.db')
  const first = await start(file)
  const alice = await connect(t, first, 'alice')
  await joined(alice, 'general')
  for (const content of ['one', 'two', 'three']) t.equal((await say(alice, content)).type, 'ack')
  await alice.close()
  await first.app.close()

  const second = await start(file)
  t.teardown(() => second.app.close())
  const page = await history(second.app, 'general')
  t.same(page.messages.map((m) => [m.seq, m.payload.userId, m.payload.content]), [[1, 'alice', 'one'], [2, 'alice', 'two'], [3, 'alice', 'three']])
  t.equal(page.next, null)

  const bob = await connect(t, second, 'bob')
  t.equal((await joined(bob, 'general')).payload.seq, 3, 'a new join counts from the stored messages')
  await say(bob, 'four')
  t.equal((await bob.waitFor('message')).seq, 4, 'the restarted server does not reuse a stored seq')
  const after = await history(second.app, 'general')
  t.same(after.messages.map((m) => [m.seq, m.payload.content]), [[1, 'one'], [2, 'two'], [3, 'three'], [4, 'four']], 'the store and the adapter\'s history form one sequence')
  t.same((await history(second.app, 'general', '?before=4&limit=2')).messages.map((m) => m.seq), [2, 3], 'pages of the store by seq')
})

t.test('a message the database refuses is sent to nobody and the sender gets store_unavailable; resent with its key, it is stored and delivered once', async (t) => {
  const file = join(await tempDir(t, 'chat-db-'), 'chat.db')
  const server = await start(file)
  t.teardown(() => server.app.close())
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  await joined(alice, 'general')
  await joined(bob, 'general')

  // The database itself refuses writes (as a full disk or a broken constraint would).
  const db = new Database(file)
  t.teardown(() => db.close())
  db.exec("CREATE TRIGGER refuse BEFORE INSERT ON chat_messages BEGIN SELECT RAISE(ABORT, 'disk is full'); END")
  for (const [content, key] of [['never sent', undefined], ['lost?', 'k1']] as const) {
    const refused = await say(alice, content, key)
    t.equal(refused.type, 'error')
    t.equal(refused.payload.code, 'store_unavailable')
  }

  db.exec('DROP TRIGGER refuse')
  t.equal((await say(alice, 'lost?', 'k1')).type, 'ack', 'the resend goes through')
  t.equal((await say(alice, 'lost?', 'k1')).type, 'ack', 'a second resend (say its ack was lost) is acked too')
  t.equal((await say(alice, 'next')).type, 'ack')
  // Frames arrive in order: bob's first two messages show the refused one never went out and the resends went out once.
  const seen = [await bob.waitFor('message'), await bob.waitFor('message')].map((m) => [m.seq, m.payload.content])
  t.same(seen, [[1, 'lost?'], [2, 'next']])
  t.same((await alice.waitFor('message')).payload.content, 'lost?', 'the sender did not get the refused one either')
  t.same(db.prepare('SELECT seq, user_id AS userId, content, idempotency_key AS k FROM chat_messages ORDER BY id').all(), [
    { seq: 1, userId: 'alice', content: 'lost?', k: 'k1' },
    { seq: 2, userId: 'alice', content: 'next', k: null },
  ], 'stored once each, with the seq the room saw')
})

t.test('a message from a user not in the room is refused as before and not stored', async (t) => {
  const file = join(await tempDir(t, 'chat-db-'), 'chat.db')
  const server = await start(file)
  t.teardown(() => server.app.close())
  const alice = await connect(t, server, 'alice')
  t.equal((await say(alice, 'hello?')).payload.code, 'not_in_room')
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT count(*) AS n FROM chat_messages').get(), { n: 0 })
})
