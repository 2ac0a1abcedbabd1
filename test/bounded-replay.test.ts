/**
 * Every byte a client can make the server hold is bounded (issue #14, item 2): `join_room` with
 * `since` replays are written as the socket drains, never past `highWaterMark`, and a repeated
 * join of a room already joined does not replay again. The server uses its default limits (1 MiB
 * mark, rate limit on, 5 s slow-consumer grace).
 */
import t from 'tap'
import type { WebSocket } from 'ws'
import { MemoryAdapter } from '../plugin.js'
import { buildApp, connect, joined, sleep, until, type TestClient } from './helpers/index.js'

const HIGH_WATER_MARK = 1024 * 1024
const CONTENT = 'x'.repeat(4000)
/** A full history (the memory adapter keeps 1,000 per room) of the largest chat messages: ~4 MiB per replay. */
const HISTORY = 1000

function pauseReading (client: TestClient): void {
  (client.socket as unknown as { _socket: { pause(): void } })._socket.pause()
}

async function fillHistory (app: { ws: { broadcast(room: string, type: string, payload: unknown): unknown } }, room: string, count: number, content = CONTENT): Promise<void> {
  for (let n = 1; n <= count; n++) await app.ws.broadcast(room, 'message', { userId: 'system', content, ts: n })
}

t.test('a client that never reads and sends every join_room with since it may keeps the server buffer within the high-water mark', async (t) => {
  const server = await buildApp(t)
  const serverSockets: WebSocket[] = []
  server.app.websocketServer.on('connection', (socket: WebSocket) => serverSockets.push(socket))
  await fillHistory(server.app, 'a', HISTORY)
  await fillHistory(server.app, 'b', HISTORY)

  const mallory = await connect(t, server, 'mallory')
  const onServer = serverSockets[0]!
  pauseReading(mallory)
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  const inBefore = server.app.ws.stats().messagesIn
  // Within the default burst (50): every frame is processed, none refused.
  const JOINS = 48
  for (let i = 0; i < JOINS; i++) mallory.send('join_room', { room: i % 2 === 0 ? 'a' : 'b', since: 0 }, `j${i}`)
  await until(() => server.app.ws.stats().messagesIn >= inBefore + JOINS, 'every join arrived')
  let bufferedPeak = 0
  let rssPeak = rssBefore
  for (let i = 0; i < 20; i++) {
    await sleep(10)
    bufferedPeak = Math.max(bufferedPeak, onServer.bufferedAmount)
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  }
  t.comment(`server buffer for the non-reading client: ${(bufferedPeak / 1048576).toFixed(2)} MiB (mark ${HIGH_WATER_MARK / 1048576} MiB); RSS +${((rssPeak - rssBefore) / 1048576).toFixed(1)} MiB`)
  t.equal(server.app.ws.stats().errors.rate_limited ?? 0, 0, 'nothing was refused by the rate limit')
  // The mark, plus the replies to its own requests (a few hundred bytes each) written over it.
  // The mark, plus one replayed frame and the small replies written over it.
  t.ok(bufferedPeak <= HIGH_WATER_MARK + 8192 + JOINS * 512, `buffer peaked at ${bufferedPeak} B`)
  // A replay never waits forever for a reader: past the grace period it is closed as a slow consumer.
  await until(() => server.app.ws.stats().connections === 0, 'the non-reading client was closed', 10_000)
  mallory.socket.terminate() // it would never read the closing handshake
})

t.test('a recovery four times the high-water mark is streamed whole, in order, after recovered: true, as the reader reads', async (t) => {
  const server = await buildApp(t)
  await fillHistory(server.app, 'big', HISTORY)
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('join_room', { room: 'big', since: 0 })
  t.match(reply.payload, { room: 'big', seq: HISTORY, recovered: true })
  let expected = 1
  for (; expected <= HISTORY; expected++) if ((await alice.waitFor('message', 5000)).seq !== expected) break
  t.equal(expected, HISTORY + 1, 'every missed message, once, in seq order')
})

t.test('a recovery that fits is replayed whole, in order', async (t) => {
  const server = await buildApp(t)
  await fillHistory(server.app, 'small', 50, 'hello')
  const alice = await connect(t, server, 'alice')
  const reply = await alice.request('join_room', { room: 'small', since: 10 })
  t.equal(reply.payload.recovered, true)
  const seqs: number[] = []
  for (let i = 0; i < 40; i++) seqs.push((await alice.waitFor('message')).seq!)
  t.same(seqs, Array.from({ length: 40 }, (_, i) => 11 + i))
})

t.test('a repeated join of a room already joined does not replay again', async (t) => {
  const server = await buildApp(t)
  await fillHistory(server.app, 'r', 20, 'hello')
  const alice = await connect(t, server, 'alice')
  const first = await alice.request('join_room', { room: 'r', since: 0 })
  t.equal(first.payload.recovered, true)
  for (let i = 0; i < 20; i++) await alice.waitFor('message')
  const again = await alice.request('join_room', { room: 'r', since: 0 })
  t.equal(again.type, 'room_joined')
  t.equal(again.payload.seq, 20)
  t.equal(again.payload.recovered, true, 'nothing was missed while a member')
  t.ok(await alice.expectNone('message'), 'no second replay')
  // Live messages still arrive once.
  const bob = await connect(t, server, 'bob')
  await joined(bob, 'r')
  await bob.request('message', { room: 'r', content: 'live' })
  t.equal((await alice.waitFor('message')).seq, 21)
})

/** The memory adapter, with `position` held until the test opens the gate: a join that takes its time. */
function slowJoinAdapter (): { adapter: MemoryAdapter, hold (): () => void } {
  const adapter = new MemoryAdapter()
  let gate: Promise<void> | undefined
  // A join reads the room's position (its last seq and epoch): that read waits for the gate.
  const position = adapter.position.bind(adapter)
  ;(adapter as unknown as { position: (room: string) => unknown }).position = (room: string) => gate === undefined ? position(room) : gate.then(() => position(room))
  return {
    adapter,
    hold: () => {
      let open = (): void => {}
      gate = new Promise((resolve) => { open = resolve })
      return () => { gate = undefined; open() }
    },
  }
}

t.test('frames held for a joiner count against the mark; what was dropped is a gap its next join of the room replays', async (t) => {
  const slow = slowJoinAdapter()
  const server = await buildApp(t, { adapter: slow.adapter })
  const alice = await connect(t, server, 'alice')
  const open = slow.hold()
  alice.send('join_room', { room: 'busy' }, 'j1')
  await until(() => server.app.ws.rooms().includes('busy'), 'alice is in the room, her join still in progress')
  // 400 × 4 KB ≈ 1.6 MiB arrive while the join waits: more than the mark may hold for her.
  await fillHistory(server.app, 'busy', 400)
  const dropped = server.app.ws.stats().framesDropped
  t.ok(dropped > 0, `${dropped} held frames were dropped beyond the mark`)
  const frameBytes = Buffer.byteLength(`{"type":"message","room":"busy","seq":100,"payload":{"userId":"system","content":"${CONTENT}","ts":100}}`)
  t.ok((400 - dropped) * frameBytes <= HIGH_WATER_MARK, `what was held (${400 - dropped} frames of ${frameBytes} B) fits under the mark`)
  open()
  const reply = await alice.waitFor((frame) => frame.id === 'j1')
  t.equal(reply.type, 'room_joined')
  const seqs: number[] = []
  for (let i = 0; i < 400 - dropped; i++) seqs.push((await alice.waitFor('message')).seq!)
  t.same(seqs, Array.from({ length: 400 - dropped }, (_, i) => i + 1), 'the held frames, in order, then the gap')
  // The client saw a gap: joining the room again with its last seq fills it.
  const again = await alice.request('join_room', { room: 'busy', since: seqs[seqs.length - 1] })
  t.equal(again.payload.recovered, true)
  for (let i = seqs.length; i < 400; i++) seqs.push((await alice.waitFor('message')).seq!)
  t.same(seqs, Array.from({ length: 400 }, (_, i) => i + 1), 'every message, once, in order')
  const third = await alice.request('join_room', { room: 'busy', since: 0 })
  t.equal(third.payload.recovered, true)
  t.ok(await alice.expectNone('message', 100), 'the gap was filled: no further replay')
})

t.test('frames dropped while a recovering join waits stay a gap: the recovery does not erase what it did not cover', async (t) => {
  const slow = slowJoinAdapter()
  const server = await buildApp(t, { adapter: slow.adapter })
  await fillHistory(server.app, 'busy', 1)
  const alice = await connect(t, server, 'alice')
  const open = slow.hold()
  // The recovery reads history now (only seq 1); the join then waits for the room's position.
  alice.send('join_room', { room: 'busy', since: 0 }, 'j1')
  await until(() => server.app.ws.rooms().includes('busy'), 'alice is in the room, her join still in progress')
  await fillHistory(server.app, 'busy', 400)
  const dropped = server.app.ws.stats().framesDropped
  t.ok(dropped > 0, `${dropped} held frames, newer than the recovery, were dropped beyond the mark`)
  open()
  const reply = await alice.waitFor((frame) => frame.id === 'j1')
  t.match(reply.payload, { room: 'busy', recovered: true })
  const seqs: number[] = []
  for (let i = 0; i < 401 - dropped; i++) seqs.push((await alice.waitFor('message')).seq!)
  t.same(seqs, Array.from({ length: 401 - dropped }, (_, i) => i + 1), 'the recovered frame, then the held ones, then the gap')
  const again = await alice.request('join_room', { room: 'busy', since: seqs[seqs.length - 1] })
  t.equal(again.payload.recovered, true)
  for (let i = seqs.length; i < 401; i++) seqs.push((await alice.waitFor('message')).seq!)
  t.same(seqs, Array.from({ length: 401 }, (_, i) => i + 1), 'the dropped frames are replayed by the next join: every message, once, in order')
})
