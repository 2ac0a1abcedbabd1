import t from 'tap'
import type { WebSocket } from 'ws'
import { buildApp, connect, joined, sleep, type TestClient } from './helpers/index.js'

const MEMBERS = 50
const MESSAGES = 5000
const HIGH_WATER_MARK = 256 * 1024
const CONTENT = 'x'.repeat(2000)
/** Peak RSS growth allowed while 5,000 × 2 KB frames go to 50 members (≈ 500 MB written in all). */
const RSS_BOUND = 96 * 1024 * 1024

/** The paused client stops reading at the TCP level: the kernel buffers fill, then the server's. */
function pauseReading (client: TestClient): void {
  (client.socket as unknown as { _socket: { pause(): void } })._socket.pause()
}

function resumeReading (client: TestClient): void {
  (client.socket as unknown as { _socket: { resume(): void } })._socket.resume()
}

t.test('a client that stops reading is cut off with 1013 while 49 others receive all 5,000 broadcasts in order', async (t) => {
  const server = await buildApp(t, { highWaterMark: HIGH_WATER_MARK, slowConsumerGraceMs: 100, heartbeatIntervalMs: 0 })
  const serverSockets: WebSocket[] = []
  server.app.websocketServer.on('connection', (socket: WebSocket) => serverSockets.push(socket))

  const clients: TestClient[] = []
  for (let i = 0; i < MEMBERS; i++) {
    const client = await connect(t, server, `u${i}`)
    await joined(client, 'big')
    clients.push(client)
  }
  const [paused, ...others] = clients as [TestClient, ...TestClient[]]
  const pausedOnServer = serverSockets[0]!

  // The 49 readers check order on the raw frames (no per-frame bookkeeping in the test client).
  const received = new Array<number>(others.length).fill(0)
  const sawPausedLeave = new Array<boolean>(others.length).fill(false)
  const outOfOrder: string[] = []
  others.forEach((client, i) => {
    client.socket.removeAllListeners('message')
    client.socket.on('message', (data) => {
      const text = String(data)
      if (text.startsWith('{"type":"user_left"')) {
        if (text.includes('"userId":"u0"')) sawPausedLeave[i] = true
        return
      }
      const expected = received[i]! + 1
      if (!text.startsWith(`{"type":"message","room":"big","seq":${expected},`) || !text.endsWith(`"ts":${expected}}}`)) {
        outOfOrder.push(`client ${i + 1} expected seq ${expected}, got ${text.slice(0, 60)}`)
      }
      received[i] = expected
    })
  })

  pauseReading(paused)
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  let rssPeak = rssBefore
  let bufferedPeak = 0
  for (let n = 1; n <= MESSAGES; n++) {
    await server.app.ws.broadcast('big', 'message', { userId: 'system', content: CONTENT, ts: n })
    if (n % 25 === 0) {
      // Let the event loop run, as a real producer would between messages.
      await new Promise((resolve) => setImmediate(resolve))
      bufferedPeak = Math.max(bufferedPeak, pausedOnServer.bufferedAmount)
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
    }
  }
  while (received.some((count) => count < MESSAGES) && outOfOrder.length === 0) await sleep(10)
  while (!sawPausedLeave.every(Boolean)) await sleep(10)

  t.same(outOfOrder, [], 'every reader got every message in seq order')
  t.same(received, new Array(others.length).fill(MESSAGES))
  t.ok(sawPausedLeave.every(Boolean), 'the others saw the paused user leave')

  const stats = server.app.ws.stats()
  t.equal(stats.connections, MEMBERS - 1, 'the slow consumer is gone from the hub')
  t.ok(stats.framesDropped > 0, `frames dropped: ${stats.framesDropped}`)
  t.same(await server.app.ws.members('big'), others.map((_, i) => `u${i + 1}`))

  const frameBytes = Buffer.byteLength(`{"type":"message","room":"big","seq":${MESSAGES},"payload":{"userId":"system","content":"${CONTENT}","ts":${MESSAGES}}}`) + 4
  t.ok(bufferedPeak <= HIGH_WATER_MARK + frameBytes, `server buffer for the paused client peaked at ${bufferedPeak} B (mark ${HIGH_WATER_MARK} B + one frame)`)
  t.ok(rssPeak - rssBefore < RSS_BOUND, `RSS grew by ${((rssPeak - rssBefore) / 1048576).toFixed(1)} MiB (bound ${RSS_BOUND / 1048576} MiB)`)

  // Once it reads again it finds what was buffered, a gap-free prefix, then the 1013 close frame.
  resumeReading(paused)
  const closed = await paused.closed
  t.equal(closed.code, 1013)
  t.equal(closed.reason, 'Slow consumer')
  const seqs = paused.pending('message').map((frame) => frame.seq)
  t.ok(seqs.length < MESSAGES, `the paused client got ${seqs.length} of ${MESSAGES}`)
  t.same(seqs, seqs.map((_, i) => i + 1), 'what it did get is in order, without gaps')
})

t.test('a reader that falls behind briefly loses broadcasts but not replies, and keeps its connection within the grace period', async (t) => {
  const server = await buildApp(t, { highWaterMark: 16 * 1024, slowConsumerGraceMs: 60_000, heartbeatIntervalMs: 0 })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'room')
  pauseReading(alice)
  let n = 0
  while (server.app.ws.stats().framesDropped === 0 && n < 20_000) {
    await server.app.ws.broadcast('room', 'message', { userId: 'system', content: CONTENT, ts: ++n })
    if (n % 25 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  const dropped = server.app.ws.stats().framesDropped
  t.ok(dropped > 0, `alice fell behind after ${n} messages`)
  // A request while still over the mark: its reply is queued, not dropped.
  const pong = alice.request('ping', undefined, 10_000)
  while (server.app.ws.stats().messagesIn < 2) await sleep(5)
  t.equal(server.app.ws.stats().framesDropped, dropped, 'the reply was not dropped')
  resumeReading(alice)
  t.equal((await pong).type, 'pong')
  t.ok(alice.pending('message').length < n, 'broadcasts were dropped meanwhile')
  t.ok(alice.isOpen, 'still connected')
  t.equal((await alice.request('ping', undefined, 10_000)).type, 'pong', 'and served')
})
