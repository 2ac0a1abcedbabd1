/**
 * A recovering join replays from the store, but the live copy of a replayed frame may reach the
 * instance later: pub/sub runs behind the store (on Redis the subscriber is another connection).
 * Found by the chaos run (bench/chaos, seed 1): after a re-join with `recovered: true`, the last
 * replayed message arrived a second time. The joiner gets each message once, in `seq` order.
 */
import t from 'tap'
import { buildApp, connect } from './helpers/index.js'
import { InProcessCluster } from './helpers/in-process-cluster.js'

const LAG_MS = 300

t.test('a live frame that reaches the instance after the replay that already sent it is not sent again', async (t) => {
  const cluster = new InProcessCluster({ deliveryDelayMs: LAG_MS })
  const server = await buildApp(t, { adapter: cluster.adapter(), rateLimit: false })
  const bob = await connect(t, server, 'bob')
  await bob.request('join_room', { room: 'r' })
  const alice = await connect(t, server, 'alice')
  await alice.request('join_room', { room: 'r' })
  for (const content of ['one', 'two']) t.equal((await bob.request('message', { room: 'r', content })).type, 'ack')
  t.equal((await alice.waitFor((frame) => frame.type === 'message' && frame.seq === 2, 2000)).payload.content, 'two')
  await alice.close()

  // Stored at once, delivered by pub/sub LAG_MS later: after the recovering join below has replayed it.
  t.equal((await bob.request('message', { room: 'r', content: 'three' })).type, 'ack')
  const back = await connect(t, server, 'alice')
  const reply = await back.request('join_room', { room: 'r', since: 2 })
  t.equal(reply.payload.recovered, true)
  const seqs = [(await back.waitFor('message')).seq]
  t.equal(seqs[0], 3, 'replayed')
  await bob.waitFor((frame) => frame.type === 'message' && frame.seq === 3, 2000) // the live copy has reached the instance
  t.equal((await bob.request('message', { room: 'r', content: 'four' })).type, 'ack')
  while (seqs.at(-1) !== 4) seqs.push((await back.waitFor('message', 2000)).seq)
  t.same(seqs, [3, 4], 'seq 3 once, then 4: the late live copy of 3 was not sent again')
})

t.test('without a replay, a late live frame newer than the join is delivered as usual', async (t) => {
  const cluster = new InProcessCluster({ deliveryDelayMs: LAG_MS })
  const server = await buildApp(t, { adapter: cluster.adapter(), rateLimit: false })
  const bob = await connect(t, server, 'bob')
  await bob.request('join_room', { room: 'r' })
  const alice = await connect(t, server, 'alice')
  const joined = await alice.request('join_room', { room: 'r', since: 0 })
  t.equal(joined.payload.seq, 0)
  t.equal((await bob.request('message', { room: 'r', content: 'one' })).type, 'ack')
  t.equal((await alice.waitFor('message', 2000)).seq, 1)
})
