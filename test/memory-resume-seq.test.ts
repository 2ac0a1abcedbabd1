/**
 * MemoryAdapter's `resumeSeq`: a room's numbering starts after the `seq` the app says it reached
 * before (its own store), so a restarted server does not hand out stored `seq`s again.
 */
import t from 'tap'
import { MemoryAdapter } from '../plugin.js'
import { buildApp, connect, joined } from './helpers/index.js'

t.test('a room goes on from resumeSeq; rooms it does not know start at 1', async (t) => {
  const app = await buildApp(t, { adapter: new MemoryAdapter({ resumeSeq: (room) => room === 'general' ? 41 : 0 }) })
  const alice = await connect(t, app, 'alice')
  t.equal((await joined(alice, 'general')).payload.seq, 41, 'room_joined says where the numbering is')
  t.equal((await alice.request('message', { room: 'general', content: 'hi' })).type, 'ack')
  t.equal((await alice.waitFor('message')).seq, 42)
  await joined(alice, 'random')
  await alice.request('message', { room: 'random', content: 'hi' })
  t.equal((await alice.waitFor('message')).seq, 1)
})

t.test('a client holding seqs of the previous run is told it did not recover', async (t) => {
  const app = await buildApp(t, { adapter: new MemoryAdapter({ resumeSeq: () => 10 }) })
  const alice = await connect(t, app, 'alice')
  const reply = await alice.request('join_room', { room: 'general', since: 7 })
  t.equal(reply.payload.seq, 10)
  t.equal(reply.payload.recovered, false, 'seqs 8–10 are not in this process\'s history')
})

t.test('resumeSeq must be a function returning an integer ≥ 0', async (t) => {
  t.throws(() => new MemoryAdapter({ resumeSeq: 3 as unknown as () => number }), { code: 'WS_ERR_INVALID_OPTION' })
  const app = await buildApp(t, { adapter: new MemoryAdapter({ resumeSeq: () => -1 }) })
  const alice = await connect(t, app, 'alice')
  t.equal((await alice.request('join_room', { room: 'general' })).payload.code, 'internal_error')
})
