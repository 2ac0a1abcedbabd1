import t from 'tap'
import { buildApp, connect, joined } from './helpers/index.js'

const FOUR_KB = 'x'.repeat(4096)

t.test('a reader that keeps up gets every frame of a synchronous burst larger than the high-water mark', async (t) => {
  const server = await buildApp(t, { rateLimit: false })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'burst')
  // 400 × 4 KB ≈ 1.6 MiB in one tick: awaiting the memory adapter's broadcasts yields only to microtasks.
  for (let i = 0; i < 400; i++) await server.app.ws.broadcast('burst', 'message', { userId: 'system', content: FOUR_KB, ts: i })
  for (let i = 0; i < 400; i++) t.equal((await alice.waitFor('message', 5000)).seq, i + 1, `seq ${i + 1}`)
  t.equal(server.app.ws.stats().framesDropped, 0)
})

t.test('recovery larger than the high-water mark is delivered whole after recovered: true', async (t) => {
  const server = await buildApp(t, { rateLimit: false })
  const writer = await connect(t, server, 'writer')
  await joined(writer, 'history')
  for (let i = 0; i < 400; i++) await server.app.ws.broadcast('history', 'message', { userId: 'system', content: FOUR_KB, ts: i })
  const reader = await connect(t, server, 'reader')
  const reply = await reader.request('join_room', { room: 'history', since: 0 })
  t.match(reply.payload, { room: 'history', seq: 400, recovered: true })
  for (let i = 0; i < 400; i++) t.equal((await reader.waitFor('message', 5000)).seq, i + 1, `seq ${i + 1}`)
})
