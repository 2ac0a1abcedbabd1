/**
 * A lost Redis is detected, not papered over: the test's own redis-server is killed and started
 * again empty, so every room's numbering restarts. A client resuming with a `since` from before
 * must hear `recovered: false` — never a replay of other messages under the same numbers — because
 * `room_joined` names the numbering's epoch and the client sends it back.
 */
import t from 'tap'
import WebSocket from 'ws'
import { RedisAdapter, type RedisAdapterOptions } from '../redis.js'
import { buildChatApp } from '../examples/chat/app.js'
import { buildApp, connect, SECRET, tokenFor, type TestApp, type TestClient } from './helpers/index.js'
import { useOwnRedis, type OwnRedis } from './helpers/redis-server.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent, startProxy } from './helpers/sdk.js'

const redis = await useOwnRedis(t)

const fastAdapter = (own: OwnRedis, options: RedisAdapterOptions = {}): RedisAdapter =>
  new RedisAdapter({ url: own.url, keyPrefix: 'lost:', heartbeatIntervalMs: 200, instanceTimeoutMs: 1000, retryStrategy: () => 50, ...options })

async function eventually (check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const connected = (app: TestApp['app']): boolean => (app.ws.stats().adapter as { connected: boolean }).connected

/** Send until acked (durable messages are refused while Redis is away). */
async function sendAcked (client: TestClient, room: string, content: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await client.request('message', { room, content })).type === 'ack') return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`"${content}" was never accepted`)
}

if (redis !== undefined) {
  t.test('after Redis restarts empty, a join with a since from before answers recovered: false under a new epoch and replays nothing', async (t) => {
    const app = await buildApp(t, { adapter: fastAdapter(redis), rateLimit: false })
    const alice = await connect(t, app, 'alice')
    const joined = await alice.request('join_room', { room: 'r' })
    const before = joined.payload.epoch as string
    t.type(before, 'string', 'room_joined names the epoch')
    const bob = await connect(t, app, 'bob')
    await bob.request('join_room', { room: 'r' })
    for (let i = 1; i <= 5; i++) await sendAcked(bob, 'r', `old ${i}`)
    t.equal((await alice.waitFor((f) => f.type === 'message' && f.seq === 5)).payload.content, 'old 5')
    t.equal((await alice.request('join_room', { room: 'r', since: 3, epoch: before })).payload.recovered, true, 'within one epoch, recovery works')
    await alice.close()

    await redis.restartEmpty()
    t.ok(await eventually(() => connected(app.app)), 'the adapter reconnected')
    // The numbering starts over: seq 1…7 are other messages than before, and go past alice's mark (5).
    for (let i = 1; i <= 7; i++) await sendAcked(bob, 'r', `new ${i}`)

    const back = await connect(t, app, 'alice')
    const reply = await back.request('join_room', { room: 'r', since: 5, epoch: before })
    t.equal(reply.payload.recovered, false, 'not recovered: the numbering she counted in is gone')
    t.equal(reply.payload.seq, 7, 'her new baseline')
    t.not(reply.payload.epoch, before, 'a new epoch')
    t.ok(await back.expectNone('message'), 'nothing replayed under the old numbers')

    // From a second connection: a connection already in the room is never replayed to again.
    const again = await connect(t, app, 'alice')
    const current = await again.request('join_room', { room: 'r', since: 5, epoch: reply.payload.epoch })
    t.equal(current.payload.recovered, true, 'a since of the current epoch still recovers')
    t.same(again.pending('message').map((m) => m.payload.content), ['new 6', 'new 7'])
  })

  t.test('the generated client sends the epoch back on re-join: after Redis lost its data it reports recovered: false and gets no foreign replay', async (t) => {
    const sdk = await loadPackage((await generateInto(t, CHAT_DOCUMENT)).outDir)
    const app = await buildChatApp({ jwtSecret: SECRET, ws: { adapter: fastAdapter(redis, { keyPrefix: 'lost-sdk:' }), rateLimit: false } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    t.teardown(() => app.close())
    const port = (app.server.address() as { port: number }).port
    const proxy = await startProxy(t, port)
    const fast = { reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 100 }), heartbeat: false }
    const alice = sdk.createClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, token: tokenFor('alice'), WebSocket, ...fast })
    t.teardown(() => alice.close())
    const bob = await connect(t, { app, port, url: `ws://127.0.0.1:${port}/ws` }, 'bob')
    const seen: string[] = []
    alice.onMessage((payload: { content: string }, meta: { seq: number }) => seen.push(`${payload.content}#${meta.seq}`))
    await alice.sendJoinRoom({ room: 'lost' })
    await bob.request('join_room', { room: 'lost' })
    for (let i = 1; i <= 5; i++) await sendAcked(bob, 'lost', `old ${i}`)
    t.ok(await eventually(() => seen.length === 5), 'alice saw seq 1…5')

    proxy.refusing = true
    const disconnected = nextEvent(alice, 'disconnected')
    proxy.cut()
    await disconnected
    await redis.restartEmpty()
    t.ok(await eventually(() => connected(app)), 'the adapter reconnected')
    for (let i = 1; i <= 7; i++) await sendAcked(bob, 'lost', `new ${i}`)

    const rejoined = nextEvent(alice, 'rejoined')
    proxy.refusing = false
    t.same(await rejoined, { room: 'lost', recovered: false, seq: 7 }, 'told the history is gone, with the new baseline')
    await sendAcked(bob, 'lost', 'live')
    t.ok(await eventually(() => seen.length === 6), 'the live message arrives')
    t.same(seen, ['old 1#1', 'old 2#2', 'old 3#3', 'old 4#4', 'old 5#5', 'live#8'], 'no message of the new numbering passed off as recovered')
  })

  t.test('members that stay connected while Redis restarts empty are told: room_joined with recovered: false and the new epoch, then the new numbering in order', async (t) => {
    const one = await buildApp(t, { adapter: fastAdapter(redis, { keyPrefix: 'lost-live:' }), rateLimit: false })
    const two = await buildApp(t, { adapter: fastAdapter(redis, { keyPrefix: 'lost-live:' }), rateLimit: false })
    const alice = await connect(t, one, 'alice')
    const bob = await connect(t, two, 'bob')
    const before = (await alice.request('join_room', { room: 'live' })).payload.epoch as string
    await bob.request('join_room', { room: 'live' })
    for (let i = 1; i <= 5; i++) await sendAcked(bob, 'live', `old ${i}`)
    for (const client of [alice, bob]) for (let seq = 1; seq <= 5; seq++) await client.waitFor((f) => f.type === 'message' && f.seq === seq)

    await redis.restartEmpty()
    t.ok(await eventually(() => connected(one.app) && connected(two.app)), 'both instances reconnected')
    for (let i = 1; i <= 3; i++) await sendAcked(bob, 'live', `new ${i}`)

    for (const [name, client] of [['alice', alice], ['bob', bob]] as const) {
      const notice = await client.waitFor((f) => f.type === 'room_joined' && f.id === undefined, 10_000, `${name}'s reset notice`)
      t.equal(notice.payload.recovered, false, `${name} is told the stream restarted`)
      t.type(notice.payload.epoch, 'string')
      t.not(notice.payload.epoch, before, `${name} gets the new epoch`)
      t.ok(Array.isArray(notice.payload.members), 'with the members the store has now (the resync may still be re-adding them)')
      const baseline = notice.payload.seq as number
      const after: Array<[number, string]> = []
      for (let seq = baseline + 1; seq <= 3; seq++) {
        const m = await client.waitFor((f) => f.type === 'message', 5000, `${name}'s seq ${seq}`)
        after.push([m.seq as number, (m.payload as { content: string }).content])
      }
      t.same(after, [[1, 'new 1'], [2, 'new 2'], [3, 'new 3']].slice(baseline), `${name}: the new numbering continues right after the baseline, in order`)
      t.same(client.pending('message'), [], `${name}: nothing before the notice is replayed, nothing foreign`)
      // The notice's position is one a re-join recovers from.
      const again = await client.request('join_room', { room: 'live', since: 3, epoch: notice.payload.epoch })
      t.equal(again.payload.recovered, true, `${name}: the new position recovers`)
    }
  })

  t.test('the generated client reports a reset under a connected client as rejoined with recovered: false, and recovers from the new position after a reconnect', async (t) => {
    const sdk = await loadPackage((await generateInto(t, CHAT_DOCUMENT)).outDir)
    const app = await buildChatApp({ jwtSecret: SECRET, ws: { adapter: fastAdapter(redis, { keyPrefix: 'lost-sdk-live:' }), rateLimit: false } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    t.teardown(() => app.close())
    const port = (app.server.address() as { port: number }).port
    const proxy = await startProxy(t, port)
    const fast = { reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 100 }), heartbeat: false }
    const alice = sdk.createClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, token: tokenFor('alice'), WebSocket, ...fast })
    t.teardown(() => alice.close())
    const bob = await connect(t, { app, port, url: `ws://127.0.0.1:${port}/ws` }, 'bob')
    const seen: string[] = []
    alice.onMessage((payload: { content: string }, meta: { seq: number }) => seen.push(`${payload.content}#${meta.seq}`))
    await alice.sendJoinRoom({ room: 'kept' })
    await bob.request('join_room', { room: 'kept' })
    for (let i = 1; i <= 3; i++) await sendAcked(bob, 'kept', `old ${i}`)
    t.ok(await eventually(() => seen.length === 3), 'alice saw seq 1…3')

    const reset = nextEvent(alice, 'rejoined')
    await redis.restartEmpty()
    t.ok(await eventually(() => connected(app)), 'the adapter reconnected')
    const told = await reset as { room: string, recovered: boolean, seq: number }
    t.match(told, { room: 'kept', recovered: false }, 'told, while still connected')
    for (let i = 1; i <= 2; i++) await sendAcked(bob, 'kept', `new ${i}`)
    t.ok(await eventually(() => seen.length === 3 + 2 - told.seq), 'the new numbering arrives')

    proxy.refusing = true
    const disconnected = nextEvent(alice, 'disconnected')
    proxy.cut()
    await disconnected
    await sendAcked(bob, 'kept', 'while away')
    const rejoined = nextEvent(alice, 'rejoined')
    proxy.refusing = false
    t.same(await rejoined, { room: 'kept', recovered: true, seq: 3 }, 're-joined from the new position (seq and epoch): recovered')
    t.ok(await eventually(() => seen.includes('while away#3')), 'the missed message is replayed')
    t.same(seen, ['old 1#1', 'old 2#2', 'old 3#3', ...['new 1#1', 'new 2#2'].slice(told.seq), 'while away#3'], 'each message once, in order')
  })
}
