/**
 * A room's feed never delivers past a gap it could not fill: it fills it from history under the
 * same epoch, or tells the members their stream restarted (`room_joined` without `id`,
 * `recovered: false`, the new baseline) and continues from there. Found by the chaos run: a frame
 * a catch-up delivered from history came again when its pub/sub copy was late (seq 102 twice); an
 * instance whose Redis link came back (subscriber first, commands later) delivered seq 174 after 169.
 */
import t from 'tap'
import { RoomFeeds } from '../lib/adapters/room-feeds.js'
import type { History } from '../lib/adapters/cluster-roles.js'
import type { StreamPosition } from '../lib/adapter.js'
import { buildApp, connect, type TestClient } from './helpers/index.js'
import { InProcessCluster } from './helpers/in-process-cluster.js'

const frame = (seq: number): { seq: number, except: undefined, data: Buffer } => ({ seq, except: undefined, data: Buffer.from(`m${seq}`) })

function makeFeeds (reads: Array<() => History>): { feeds: RoomFeeds, delivered: Array<number | string>, warnings: string[] } {
  const delivered: Array<number | string> = []
  const warnings: string[] = []
  let calls = 0
  const feeds = new RoomFeeds({
    deliver: (_room, _data, seq) => { delivered.push(seq!) },
    history: async () => {
      const read = reads[Math.min(calls++, reads.length - 1)]!
      return read()
    },
    reset: (_room, position: StreamPosition) => { delivered.push(`reset ${position.seq} ${position.epoch}`) },
    ready: async () => true,
    available: () => true,
    warn: (_obj, msg) => { warnings.push(msg) },
  })
  return { feeds, delivered, warnings }
}

const missed: History = { recovered: true, last: 3, epoch: 'e', frames: [2, 3].map((seq) => ({ seq, data: `m${seq}`, except: undefined })) }
const settle = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, 20)) }

t.test('the late pub/sub copy of a frame a catch-up delivered from history is not delivered again; a newer frame is', async (t) => {
  const { feeds, delivered } = makeFeeds([() => missed])
  feeds.open('r')
  feeds.noteEpoch('r', 'e')
  feeds.receive('r', frame(1))
  feeds.catchUp()
  await settle()
  t.same(delivered, [1, 2, 3], 'caught up from history')
  feeds.receive('r', frame(2)) // pub/sub brings them only now
  feeds.receive('r', frame(3))
  feeds.receive('r', frame(4))
  t.same(delivered, [1, 2, 3, 4], 'each once, in order')
})

t.test('a restarted numbering is announced as a reset (baseline just before its first frame, the new epoch), then followed', async (t) => {
  const { feeds, delivered } = makeFeeds([() => missed, () => ({ recovered: false, last: 1, epoch: 'e2', frames: [] })])
  feeds.open('r')
  feeds.noteEpoch('r', 'e')
  feeds.receive('r', frame(1))
  feeds.catchUp()
  await settle()
  feeds.receive('r', frame(4))
  feeds.receive('r', frame(1)) // the backend lost its data: seq starts over
  feeds.receive('r', frame(2))
  await settle()
  t.same(delivered, [1, 2, 3, 4, 'reset 0 e2', 1, 2])
})

t.test('a catch-up under another epoch than the feed\'s delivers nothing of it: the members are told', async (t) => {
  const foreign: History = { recovered: true, last: 9, epoch: 'e2', frames: [8, 9].map((seq) => ({ seq, data: `x${seq}`, except: undefined })) }
  const { feeds, delivered } = makeFeeds([() => foreign])
  feeds.open('r')
  feeds.noteEpoch('r', 'e')
  feeds.receive('r', frame(7))
  feeds.catchUp()
  await settle()
  feeds.receive('r', frame(9)) // a late copy of what the store had at the read: not delivered
  feeds.receive('r', frame(10))
  t.same(delivered, [7, 'reset 9 e2', 10])
})

async function sendAcked (client: TestClient, room: string, content: string): Promise<number> {
  const reply = await client.request('message', { room, content })
  if (reply.type !== 'ack') throw new Error(`"${content}" refused: ${JSON.stringify(reply)}`)
  return (reply.payload as { seq: number }).seq
}

/** Two instances on one in-process bus: alice on the first (whose link is cut), bob on the second. */
async function pair (t: Tap, historySize?: number): Promise<{ cluster: InProcessCluster, cut: ReturnType<InProcessCluster['adapter']>, alice: TestClient, bob: TestClient }> {
  const cluster = new InProcessCluster(historySize === undefined ? {} : { historySize })
  const cut = cluster.adapter()
  const a = await buildApp(t, { adapter: cut, rateLimit: false })
  const b = await buildApp(t, { adapter: cluster.adapter(), rateLimit: false })
  const alice = await connect(t, a, 'alice')
  const bob = await connect(t, b, 'bob')
  await alice.request('join_room', { room: 'r' })
  await bob.request('join_room', { room: 'r' })
  await sendAcked(bob, 'r', 'one')
  await alice.waitFor((f) => f.type === 'message' && f.seq === 1)
  return { cluster, cut, alice, bob }
}
type Tap = Parameters<typeof buildApp>[0]

const seqs = (client: TestClient): Array<number | string> => client.pending().filter((f) => f.type === 'message' || f.type === 'room_joined')
  .map((f) => f.type === 'message' ? f.seq as number : `room_joined ${String((f.payload as { recovered?: boolean }).recovered)} ${String((f.payload as { seq: number }).seq)}`)

t.test('an instance whose subscriber is back before its command connection waits for it, fills the gap, and delivers nothing past it', async (t) => {
  const { cluster, cut, alice, bob } = await pair(t)
  cluster.cutLink(cut)
  await sendAcked(bob, 'r', 'two')
  await sendAcked(bob, 'r', 'three')
  cluster.subscriberBack(cut) // channels live, commands still failing: the catch-up cannot read history yet
  await sendAcked(bob, 'r', 'four')
  t.ok(await alice.expectNone('message'), 'nothing delivered past the gap while history cannot be read')
  cluster.commandsBack(cut)
  await alice.waitFor((f) => f.type === 'message' && f.seq === 4)
  await sendAcked(bob, 'r', 'five')
  await alice.waitFor((f) => f.type === 'message' && f.seq === 5)
  t.same(alice.pending('room_joined'), [], 'no reset: the gap was filled')
})

t.test('a gap history no longer holds is announced as a reset with recovered: false, and the stream continues from its baseline', async (t) => {
  const { cluster, cut, alice, bob } = await pair(t, 2)
  const epoch = (await alice.request('join_room', { room: 'r' })).payload.epoch as string
  cluster.cutLink(cut)
  for (const content of ['two', 'three', 'four', 'five']) await sendAcked(bob, 'r', content)
  cluster.subscriberBack(cut)
  cluster.commandsBack(cut)
  const reset = await alice.waitFor((f) => f.type === 'room_joined' && f.id === undefined)
  t.match(reset.payload, { room: 'r', recovered: false, seq: 5, epoch, members: ['alice', 'bob'], memberCount: 2 }, 'told: the baseline is the store\'s last seq, same epoch')
  await sendAcked(bob, 'r', 'six')
  await alice.waitFor((f) => f.type === 'message' && f.seq === 6)
  t.same(seqs(alice), [], 'seq 2…5 never arrive late, nothing else came')
})
