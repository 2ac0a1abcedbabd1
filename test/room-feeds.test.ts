/**
 * A feed that must catch up from history while the store is not readable yet (the subscriber
 * reconnected before the command connection, as the chaos run saw after a cut Redis link: 45
 * "could not fetch frames missed by pub/sub" and members getting seq 93 after 79) keeps holding
 * newer frames and tries again, so members still see every frame in order. And a frame it caught
 * up from history is not delivered again when its pub/sub copy arrives late (the full chaos run,
 * seed 1: members on an instance whose Redis link came back got seq 102 twice).
 */
import t from 'tap'
import { RoomFeeds } from '../lib/adapters/room-feeds.js'
import type { History } from '../lib/adapters/cluster-roles.js'

const frame = (seq: number): { seq: number, except: undefined, data: Buffer } => ({ seq, except: undefined, data: Buffer.from(`m${seq}`) })

function makeFeeds (reads: Array<() => History>): { feeds: RoomFeeds, delivered: number[], warnings: string[], reads: () => number } {
  const delivered: number[] = []
  const warnings: string[] = []
  let calls = 0
  const feeds = new RoomFeeds({
    deliver: (_room, _data, seq) => { delivered.push(seq!) },
    history: async () => {
      const read = reads[Math.min(calls++, reads.length - 1)]!
      return read()
    },
    warn: (_obj, msg) => { warnings.push(msg) },
  })
  return { feeds, delivered, warnings, reads: () => calls }
}

const unreachable = (): History => { throw new Error('Redis is unreachable') }
const missed: History = { recovered: true, last: 3, epoch: 'e', frames: [2, 3].map((seq) => ({ seq, data: `m${seq}`, except: undefined })) }

t.test('a catch-up whose history read fails at first is tried again, holding newer frames: no gap', async (t) => {
  const { feeds, delivered, warnings, reads } = makeFeeds([unreachable, unreachable, () => missed])
  feeds.open('r')
  feeds.receive('r', frame(1))
  feeds.catchUp() // the subscriber is back; the store is not yet
  feeds.receive('r', frame(4)) // live again, after the frames it missed
  t.same(delivered, [1], 'frame 4 waits for 2 and 3')
  const deadline = Date.now() + 5000
  while (delivered.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(delivered, [1, 2, 3, 4], 'every frame, in order')
  t.same(warnings, [])
})

t.test('a catch-up that cannot read history for good gives up with a warning and delivers what it holds', async (t) => {
  const { feeds, delivered, warnings, reads } = makeFeeds([unreachable])
  feeds.open('r')
  feeds.receive('r', frame(1))
  feeds.catchUp()
  feeds.receive('r', frame(4))
  const deadline = Date.now() + 20_000
  while (warnings.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.ok(reads() > 1, `tried again (${reads()} reads)`)
  t.same(delivered, [1, 4])
  t.same(warnings, ['could not fetch frames missed by pub/sub: members see a seq gap'])
})

t.test('a feed closed while its read is retried stops retrying', async (t) => {
  const { feeds, delivered, reads } = makeFeeds([unreachable])
  feeds.open('r')
  feeds.receive('r', frame(1))
  feeds.catchUp()
  feeds.close('r')
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.equal(reads(), 1, 'no read after the close')
  t.same(delivered, [1])
})


t.test('the late pub/sub copy of a frame a catch-up delivered from history is not delivered again; a newer frame is', async (t) => {
  const { feeds, delivered } = makeFeeds([() => missed])
  feeds.open('r')
  feeds.receive('r', frame(1))
  feeds.catchUp()
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(delivered, [1, 2, 3], 'caught up from history')
  feeds.receive('r', frame(2)) // pub/sub brings them only now
  feeds.receive('r', frame(3))
  feeds.receive('r', frame(4))
  t.same(delivered, [1, 2, 3, 4], 'each once, in order')
})

t.test('after a catch-up, a restarted numbering is still followed once newer frames came', async (t) => {
  const { feeds, delivered } = makeFeeds([() => missed])
  feeds.open('r')
  feeds.receive('r', frame(1))
  feeds.catchUp()
  await new Promise((resolve) => setTimeout(resolve, 20))
  feeds.receive('r', frame(4))
  feeds.receive('r', frame(1)) // the backend lost its data: seq starts over
  t.same(delivered, [1, 2, 3, 4, 1])
})
