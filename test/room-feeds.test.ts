/**
 * A frame a feed caught up from history (after its subscriber reconnected) is not delivered again
 * when its pub/sub copy arrives late: pub/sub runs behind the store. Found by the full chaos run
 * (seed 1): members on an instance whose Redis link came back got seq 102 twice.
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

const missed: History = { recovered: true, last: 3, epoch: 'e', frames: [2, 3].map((seq) => ({ seq, data: `m${seq}`, except: undefined })) }

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
