/**
 * An ordinary deploy never stops a client that did nothing wrong (issue #14, item 1). The example
 * server and the generated client run with their OWN defaults (rate limit on, default queue size,
 * default backoff); only the WebSocket implementation and the token are given.
 */
import t, { type Test as Tap } from 'tap'
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import { WsError } from '../plugin.js'
import { buildChatApp } from '../examples/chat/app.js'
import { buildApp, connect, SECRET, tokenFor } from './helpers/index.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent } from './helpers/sdk.js'

const generated = await generateInto(t, CHAT_DOCUMENT)
const sdk = await loadPackage(generated.outDir)

/** More than the server's burst (50), fewer than maxRoomsPerConnection (100). */
const ROOMS = Array.from({ length: 80 }, (_, i) => `room-${i}`)
/** The client's default queue size. */
const QUEUED = 100

async function startServer (port = 0): Promise<{ app: FastifyInstance, port: number, url: string }> {
  const app = await buildChatApp({ jwtSecret: SECRET, logger: false })
  await app.listen({ host: '127.0.0.1', port })
  const actual = (app.server.address() as { port: number }).port
  t.teardown(() => app.close())
  return { app, port: actual, url: `ws://127.0.0.1:${actual}/ws` }
}

function defaultClient (url: string, userId = 'alice'): any {
  const client = sdk.createClient({ url, token: tokenFor(userId), WebSocket })
  t.teardown(() => client.close())
  return client
}

async function roomsOf (app: FastifyInstance, userId: string): Promise<string[]> {
  const rooms: string[] = []
  for (const room of app.ws.rooms()) if ((await app.ws.members(room)).includes(userId)) rooms.push(room)
  return rooms.sort()
}

t.test('the document publishes the server\'s limits and the generated client carries them', async (t) => {
  const server = await startServer()
  const document = server.app.asyncapi() as unknown as { 'x-limits': unknown }
  t.same(document['x-limits'], { rateLimit: { perSecond: 20, burst: 50, closeAfter: 50 }, joinAllowance: 100, maxRoomsPerConnection: 100, maxPayload: 65536 })
  t.same(sdk.serverLimits, document['x-limits'], 'read at generation time from the committed document')
})

t.test('with every default on both sides, a client in 80 rooms that queued 100 sends offline gets every room back and every send delivered after each deploy', async (t) => {
  const first = await startServer()
  const alice = defaultClient(first.url)
  const stopped: unknown[] = []
  alice.on('closed', (close: unknown) => stopped.push(close))
  const rejoinFailed: unknown[] = []
  alice.on('rejoinFailed', (event: unknown) => rejoinFailed.push(event))

  // At startup: all 80 joins at once, as an app restoring its rooms would.
  const joins = await Promise.allSettled(ROOMS.map((room) => alice.sendJoinRoom({ room })))
  t.same(joins.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason)), [], 'every join succeeded')
  t.same(await roomsOf(first.app, 'alice'), [...ROOMS].sort())

  let server = first
  for (const deploy of [1, 2]) {
    // A deploy: the server closes every socket with 1001 and a new one starts on the same port.
    const down = nextEvent(alice, 'disconnected')
    await server.app.close()
    await down
    const sends = Array.from({ length: QUEUED }, (_, i) => alice.sendMessage({ room: ROOMS[i % ROOMS.length]!, content: `deploy ${deploy} #${i}` }))
    const rejoined = new Set<string>()
    const off = alice.on('rejoined', (event: { room: string }) => rejoined.add(event.room))
    server = await startServer(first.port)
    const results = await Promise.allSettled(sends)
    off()
    const failed = results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason))
    t.same(failed.slice(0, 3), [], `deploy ${deploy}: every queued send was delivered (${failed.length} failed)`)
    t.equal(rejoined.size, ROOMS.length, `deploy ${deploy}: every room re-joined`)
    t.same(await roomsOf(server.app, 'alice'), [...ROOMS].sort(), `deploy ${deploy}: the server has alice in every room`)
    t.equal(server.app.ws.stats().errors.rate_limited ?? 0, 0, `deploy ${deploy}: nothing was refused for rate`)
    t.equal(alice.state, 'open')
  }
  t.same(stopped, [], 'the client never stopped')
  t.same(rejoinFailed, [])
})

t.test('a connection closed for flooding is told when to come back (4029, retry after), and the client reconnects no sooner', async (t) => {
  const server = await buildApp(t, { rateLimit: { perSecond: 1, burst: 5, closeAfter: 10 } })
  // The server side: the close names the code and the delay.
  const raw = await connect(t, server, 'mallory')
  for (let i = 0; i < 40; i++) raw.send('ping', {}, `f${i}`)
  const closed = await raw.closed
  t.equal(closed.code, 4029)
  t.equal(closed.reason, 'Rate limit exceeded repeatedly; retry after 5000 ms', 'the bucket refills in burst / perSecond')
  t.equal(sdk.closeCodes[4029].reconnect, true, 'the code table says: come back')

  // The generated client: pacing turned off to flood on purpose; it is told to wait and does.
  const flooder = sdk.createClient({ url: server.url, token: tokenFor('mallory'), WebSocket, pacing: false })
  t.teardown(() => flooder.close())
  await flooder.connect()
  const reconnecting = nextEvent(flooder, 'reconnecting')
  for (let i = 0; i < 40; i++) flooder.sendPing().catch(() => {})
  const event = await reconnecting
  t.equal(event.code, 4029)
  t.ok(event.delayMs >= 5000, `the next attempt waits the delay the server named (${event.delayMs} ms)`)
  t.equal(flooder.state, 'reconnecting', 'not stopped')
})

/** A server whose `authorizeJoin` misbehaves once per room on the re-joins (after the first connection's joins). */
async function flakyJoinServer (t: Tap, misbehave: () => Promise<void>): Promise<{ url: string, drop: () => void }> {
  const joinsPerRoom = new Map<string, number>()
  const server = await buildApp(t, {
    authorizeJoin: async (_user, room) => {
      const n = (joinsPerRoom.get(room) ?? 0) + 1
      joinsPerRoom.set(room, n)
      if (n === 2) await misbehave()
      return true
    },
  })
  const sockets: WebSocket[] = []
  server.app.websocketServer.on('connection', (socket: WebSocket) => sockets.push(socket))
  // No close frame: the client sees 1006 and reconnects.
  return { url: server.url, drop: () => { for (const socket of sockets.splice(0)) socket.terminate() } }
}

async function rejoinsAfterDrop (t: Tap, misbehave: () => Promise<void>, options: object = {}): Promise<void> {
  const server = await flakyJoinServer(t, misbehave)
  const alice = sdk.createClient({ url: server.url, token: tokenFor('alice'), WebSocket, reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 50 }), ...options })
  t.teardown(() => alice.close())
  const rooms = ['a', 'b', 'c']
  for (const room of rooms) await alice.sendJoinRoom({ room })
  const rejoinFailed: unknown[] = []
  alice.on('rejoinFailed', (event: unknown) => rejoinFailed.push(event))
  const rejoined = new Set<string>()
  alice.on('rejoined', (event: { room: string }) => rejoined.add(event.room))
  server.drop()
  const deadline = Date.now() + 8000
  while (rejoined.size < rooms.length && rejoinFailed.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(rejoinFailed, [], 'no re-join was given up')
  t.same([...rejoined].sort(), rooms, 'every room was re-joined, on the same connection')
  t.same(alice.rooms.sort(), rooms)
}

t.test('a re-join refused as rate_limited is retried, not dropped', async (t) => {
  await rejoinsAfterDrop(t, async () => { throw new WsError('rate_limited', 'Too many messages: this one was not processed') })
})

t.test('a re-join that times out is retried, not assumed', async (t) => {
  // The server answers the first re-join of each room after the client's reply timeout.
  await rejoinsAfterDrop(t, () => new Promise((resolve) => setTimeout(resolve, 500)), { requestTimeoutMs: 200 })
})

t.test('the generated client\'s heartbeat keeps a healthy connection while a slow handler runs', async (t) => {
  // A join the app takes 1.5 s to authorize, and a heartbeat that pings after 100 ms of silence and
  // gives up after 300 ms without a pong: the pong must not wait behind the join.
  const server = await buildApp(t, { authorizeJoin: () => new Promise((resolve) => setTimeout(() => resolve(true), 1500)) })
  const alice = sdk.createClient({ url: server.url, token: tokenFor('alice'), WebSocket, heartbeat: { idleMs: 100, timeoutMs: 300 } })
  t.teardown(() => alice.close())
  await alice.connect()
  const drops: unknown[] = []
  alice.on('disconnected', (close: unknown) => drops.push(close))
  const reply = await alice.sendJoinRoom({ room: 'slow' })
  t.equal(reply.room, 'slow')
  t.same(drops, [], 'the connection was never given up')
})
