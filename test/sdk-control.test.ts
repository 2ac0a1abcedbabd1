/**
 * The generated client under server-side control (`app.ws.addToRoom`, `removeFromRoom`,
 * `disconnect`): its room set follows the server's changes through a reconnect, with recovery,
 * and a disconnect stops it without a reconnect loop.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import { buildChatApp } from '../examples/chat/app.js'
import { SECRET, sleep, tokenFor, until } from './helpers/index.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent, nextMessage, startProxy } from './helpers/sdk.js'

const generated = await generateInto(t, CHAT_DOCUMENT)
const sdk = await loadPackage(generated.outDir)

async function startServer (setup?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance, port: number, url: string }> {
  const app = await buildChatApp({ jwtSecret: SECRET })
  setup?.(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  t.teardown(() => app.close())
  return { app, port, url: `ws://127.0.0.1:${port}/ws` }
}

function client (url: string, user: string, options: Record<string, unknown> = {}): any {
  const c = sdk.createClient({
    url,
    token: () => tokenFor(user),
    WebSocket,
    heartbeat: false,
    reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 100 }),
    ...options,
  })
  t.teardown(() => c.close())
  return c
}

t.test('the generated client has typed handlers for the server\'s membership frames, and its README explains them', async (t) => {
  t.ok(generated.onMethods.includes('onRoomAdded'))
  t.ok(generated.onMethods.includes('onRoomRemoved'))
  const readme = readFileSync(`${generated.outDir}/README.md`, 'utf8')
  t.match(readme, /Rooms the server adds this connection to \(`room_added`\) are tracked/, 'its README says what the client does with them')
  t.match(readme, /\| 4009 \| `disconnected` \| no \|/, 'and that 4009 is not retried')
})

t.test('a room the server added is tracked, and after a network loss it is joined again and the missed messages recovered', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, 'alice')
  const bob = client(server.url, 'bob')
  await alice.connect()
  await bob.sendJoinRoom({ room: 'team' })
  await bob.sendMessage({ room: 'team', content: 'before alice' })

  const added = nextMessage((h) => alice.onRoomAdded(h))
  await server.app.ws.addToRoom({ userId: 'alice' }, 'team')
  const { payload } = await added
  t.same(payload, { room: 'team', members: payload.members, memberCount: 2, version: payload.version, seq: 1, epoch: payload.epoch })
  t.type(payload.epoch, 'string', 'with the epoch the client sends back when it joins again')
  t.same([...payload.members].sort(), ['alice', 'bob'])
  t.same(alice.rooms, ['team'], 'the client tracks the room it did not join itself')
  t.same(alice.members('team')?.count, 2, 'and its members view')

  const seen: string[] = []
  alice.onMessage((p: { content: string }, meta: { seq: number }) => seen.push(`${p.content}#${meta.seq}`))
  const first = nextMessage((h) => alice.onMessage(h), (p) => p.content === 'live 1')
  await bob.sendMessage({ room: 'team', content: 'live 1' })
  await first

  proxy.refusing = true
  const disconnected = nextEvent(alice, 'disconnected')
  proxy.cut()
  await disconnected
  await bob.sendMessage({ room: 'team', content: 'missed' })
  const rejoined = nextEvent(alice, 'rejoined')
  proxy.refusing = false
  t.same(await rejoined, { room: 'team', recovered: true, seq: 3 }, 're-joined from the last seq seen')
  const live = nextMessage((h) => alice.onMessage(h), (p) => p.content === 'live 2')
  await bob.sendMessage({ room: 'team', content: 'live 2' })
  await live
  t.same(seen, ['live 1#2', 'missed#3', 'live 2#4'], 'nothing lost, nothing twice')
})

t.test('a room the server removed is forgotten with its reason and not joined again after a reconnect', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, 'alice')
  await alice.sendJoinRoom({ room: 'team' })
  await alice.sendJoinRoom({ room: 'lobby' })
  t.same([...alice.rooms].sort(), ['lobby', 'team'])

  const removed = nextMessage((h) => alice.onRoomRemoved(h))
  await server.app.ws.removeFromRoom({ userId: 'alice' }, 'team', 'Removed from the team')
  t.same((await removed).payload, { room: 'team', reason: 'Removed from the team' })
  t.same(alice.rooms, ['lobby'])
  t.equal(alice.members('team'), undefined, 'the members view of the room is gone too')

  const rejoined: string[] = []
  alice.on('rejoined', ({ room }: { room: string }) => rejoined.push(room))
  const back = nextEvent(alice, 'rejoined')
  proxy.cut()
  await back
  await sleep(100)
  t.same(rejoined, ['lobby'], 'only the room it still holds')
  t.same(await server.app.ws.members('team'), [], 'the server agrees: alice is not in the room')
  t.same(await server.app.ws.members('lobby'), ['alice'])
})

t.test('a disconnect closes the client for good: state closed with 4009 and the reason, no reconnect attempt', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, 'alice')
  await alice.sendJoinRoom({ room: 'team' })
  let reconnecting = 0
  alice.on('reconnecting', () => { reconnecting++ })
  const closed = nextEvent(alice, 'closed')
  await server.app.ws.disconnect({ userId: 'alice' }, 'Password changed')
  t.same(await closed, { code: 4009, reason: 'Password changed' })
  t.equal(alice.state, 'closed')
  await sleep(300)
  t.equal(reconnecting, 0, 'no reconnect was scheduled')
  t.equal(proxy.connections, 1, 'and none was attempted')
  t.equal(sdk.shouldReconnect({ code: 4009, reason: '' }), false, 'the document says stop')
})

t.test('rooms the app joins or leaves for a connection (ctx.join / ctx.leave in hooks and handlers) are tracked by the client too', async (t) => {
  const server = await startServer((app) => {
    app.ws.addHook('onConnect', async (ctx) => { await ctx.join(`inbox:${ctx.userId}`) })
    app.ws.addHook('onJoin', async (ctx, event) => { if (event.room === 'quiet') await ctx.leave(`inbox:${ctx.userId}`) })
  })
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, 'alice')
  await alice.connect()
  await until(() => alice.rooms.includes('inbox:alice'), 'the room the onConnect hook joined is tracked')
  t.equal(alice.members('inbox:alice')?.count, 1, 'with its members view')

  await alice.sendJoinRoom({ room: 'quiet' })
  await until(() => !alice.rooms.includes('inbox:alice'), 'the room the onJoin hook left is forgotten')
  t.same(alice.rooms, ['quiet'])
  t.equal(alice.members('inbox:alice'), undefined)

  const rejoined: string[] = []
  alice.on('rejoined', ({ room }: { room: string }) => rejoined.push(room))
  const back = nextEvent(alice, 'rejoined')
  proxy.cut()
  await back
  await sleep(100)
  t.same(rejoined, ['quiet'], 'after a reconnect it re-joins only the rooms it is in')
})
