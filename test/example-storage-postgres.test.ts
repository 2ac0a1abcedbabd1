/**
 * The example with `DATABASE_URL`: messages are stored in PostgreSQL through the hooks, so two
 * instances on one Redis share one history — beyond what Redis keeps, a page of history on one
 * instance holds what was said on the other. Real PostgreSQL (127.0.0.1:5432, database `test`, a
 * table of this run's own) and real Redis; under CI both are required.
 */
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildChatApp } from '../examples/chat/app.js'
import { connect, joined, SECRET, tokenFor, type TestApp } from './helpers/index.js'
import { usePostgres } from './helpers/postgres.js'
import { useRedis } from './helpers/redis.js'

const postgres = await usePostgres(t)
const redis = postgres === undefined ? undefined : await useRedis(t)

if (postgres !== undefined && redis !== undefined) {
  async function start (): Promise<TestApp> {
    const app = await buildChatApp({
      jwtSecret: SECRET,
      logger: false,
      // Redis keeps the 2 newest messages of a room: older pages can only come from PostgreSQL.
      ws: { adapter: redis!.adapter({ historySize: 2 }) },
      storage: { databaseUrl: postgres!.url, table: postgres!.table },
    })
    t.teardown(() => app.close())
    await app.listen({ host: '127.0.0.1', port: 0 })
    const port = (app.server.address() as AddressInfo).port
    return { app, port, url: `ws://127.0.0.1:${port}/ws` }
  }

  t.test('two instances share one history: what alice said on one is a page of history on the other, in seq order', async (t) => {
    // Both create the table at once: one waits for the other.
    const [a, b] = await Promise.all([start(), start()])
    const alice = await connect(t, a, 'alice')
    const bob = await connect(t, b, 'bob')
    await joined(alice, 'general')
    await joined(bob, 'general')
    for (let i = 1; i <= 5; i++) t.equal((await alice.request('message', { room: 'general', content: `m${i}`, idempotencyKey: `k${i}` })).type, 'ack')
    t.equal((await alice.request('message', { room: 'general', content: 'm5', idempotencyKey: 'k5' })).type, 'ack', 'a resend is acked')
    for (let i = 1; i <= 5; i++) t.equal((await bob.waitFor('message')).payload.content, `m${i}`)

    const reply = await b.app.inject({ url: '/rooms/general/history', headers: { authorization: `Bearer ${tokenFor('bob')}` } })
    t.equal(reply.statusCode, 200)
    t.same(reply.json().messages.map((m: { seq: number, payload: { userId: string, content: string } }) => [m.seq, m.payload.userId, m.payload.content]),
      [[1, 'alice', 'm1'], [2, 'alice', 'm2'], [3, 'alice', 'm3'], [4, 'alice', 'm4'], [5, 'alice', 'm5']])
    t.same(await postgres!.query(`SELECT seq::int, content FROM ${postgres!.table} ORDER BY id`),
      [1, 2, 3, 4, 5].map((seq) => ({ seq, content: `m${seq}` })), 'one row per message, the resend included once')

    // A third instance started later (a restart) sees the same history.
    const c = await start()
    const later = await c.app.inject({ url: '/rooms/general/history?before=4&limit=2', headers: { authorization: `Bearer ${tokenFor('carol')}` } })
    t.same(later.json().messages.map((m: { seq: number }) => m.seq), [2, 3])
  })

  t.test('when PostgreSQL refuses the write, the sender gets store_unavailable and the other instance hears nothing', async (t) => {
    const [a, b] = await Promise.all([start(), start()])
    const alice = await connect(t, a, 'alice')
    const bob = await connect(t, b, 'bob')
    await joined(alice, 'noisy')
    await joined(bob, 'noisy')
    await postgres!.query(`ALTER TABLE ${postgres!.table} ADD CONSTRAINT no_shouting CHECK (content <> upper(content))`)
    t.teardown(() => postgres!.query(`ALTER TABLE ${postgres!.table} DROP CONSTRAINT IF EXISTS no_shouting`))
    const refused = await alice.request('message', { room: 'noisy', content: 'HELLO' })
    t.equal(refused.payload.code, 'store_unavailable')
    t.equal((await alice.request('message', { room: 'noisy', content: 'hello' })).type, 'ack')
    const first = await bob.waitFor('message')
    t.same([first.seq, first.payload.content], [1, 'hello'], 'the refused message never went out')
  })
}
