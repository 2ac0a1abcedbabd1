/**
 * The generated client against the real plugin (the example chat server), in Node with `ws` as
 * the injected WebSocket: round trips, typed errors, timeouts, and resilience (server restart,
 * network loss with recovery, refused re-join, auth and token failures, half-open connection,
 * offline queue and its time bound).
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import WebSocket from 'ws'
import { parse } from 'yaml'
import type { FastifyInstance } from 'fastify'
import { buildChatApp, type ChatAppOptions } from '../examples/chat/app.js'
import { SECRET, tokenFor } from './helpers/index.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent, nextMessage, startProxy } from './helpers/sdk.js'

const generated = await generateInto(t, CHAT_DOCUMENT)
const sdk = await loadPackage(generated.outDir)

interface Server { app: FastifyInstance, port: number, url: string }

/** The chat server on `port` (0: any), closed at teardown unless closed before. */
async function startServer (port = 0, ws: ChatAppOptions['ws'] = {}): Promise<Server> {
  const app = await buildChatApp({ jwtSecret: SECRET, ws })
  await app.listen({ host: '127.0.0.1', port })
  const actual = (app.server.address() as { port: number }).port
  t.teardown(() => app.close())
  return { app, port: actual, url: `ws://127.0.0.1:${actual}/ws` }
}

/** Fast policies so tests never wait for production delays. */
const fast = (): object => ({ reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 100 }) })

function client (url: string, options: Record<string, unknown> = {}): any {
  const c = sdk.createClient({ url, token: tokenFor('alice'), WebSocket, ...fast(), ...options })
  t.teardown(() => c.close())
  return c
}

t.test('one name travels end to end: wire type → AsyncAPI message and operation → client method', async (t) => {
  const document = parse(readFileSync(CHAT_DOCUMENT, 'utf8'))
  const c = client('ws://127.0.0.1:1/ws')
  let checked = 0
  // The server names operations (lib/asyncapi/names.ts), the generator names methods
  // (sdk-gen helpers/model.cjs): receiveJoinRoom ↔ sendJoinRoom, sendRoomJoined ↔ onRoomJoined.
  for (const [operationId, operation] of Object.entries<any>(document.operations)) {
    const key = String(operation.messages[0].$ref).split('/').pop()!
    const message = document.components.messages[key]
    const [prefix, method] = operation.action === 'receive' ? ['receive', 'send'] : ['send', 'on']
    t.ok(operationId.startsWith(prefix), `${operationId} is a ${operation.action} operation`)
    const name = method + operationId.slice(prefix.length)
    t.equal(typeof c[name], 'function', `${message.name} (${key}, ${operationId}) → ${name}()`)
    t.equal(key, `${operation.action === 'receive' ? 'client' : 'server'}.${message.name}`, 'the message key carries the wire type')
    checked++
  }
  t.equal(checked, Object.keys(document.components.messages).length, 'one operation per message')
  t.equal(generated.sendMethods.length + generated.onMethods.length, checked, 'no method without a message')
})

t.test('the document\'s named frame and payload schemas become the client\'s payload types, and its error code enum the client\'s ErrorCode', async (t) => {
  const protocol = readFileSync(`${generated.outDir}/src/protocol.ts`, 'utf8')
  t.match(protocol, /export type ClientJoinRoomPayload = \{\n.*\n {2}room: string\n/)
  t.match(protocol, 'export type ServerRoomJoinedPayload = {')
  t.notMatch(protocol, /export type \w*Frame\b/, 'frames are not types of their own')
  t.notMatch(protocol, /export type Schema/, 'no renamed duplicates of the payload types')
  t.match(protocol, /export type ServerErrorPayload = \{\n(.*\n)*? {2}code: ErrorCode\n/)
})

t.test('a send right after createClient connects on its own, joins, and the message comes back typed with room and seq', async (t) => {
  const server = await startServer()
  const alice = client(server.url)
  t.equal(alice.state, 'idle', 'lazy: no connection before the first send')
  const incoming = nextMessage((h) => alice.onMessage(h))
  const joined = await alice.sendJoinRoom({ room: 'general' })
  t.same(joined.members, ['alice'])
  t.equal(alice.state, 'open')
  t.equal(alice.session.userId, 'alice')
  t.equal(await alice.sendMessage({ room: 'general', content: 'hello' }), undefined, 'resolves on ack')
  const { payload, meta } = await incoming
  t.equal(payload.content, 'hello')
  t.equal(payload.userId, 'alice')
  t.equal(meta.room, 'general')
  t.equal(meta.seq, 1)
  t.same(alice.rooms, ['general'])
})

t.test('presence: another user joining and leaving arrives as onUserJoined and onUserLeft', async (t) => {
  const server = await startServer()
  const alice = client(server.url)
  const bob = client(server.url, { token: () => tokenFor('bob') })
  await alice.sendJoinRoom({ room: 'lobby' })
  const joinedEvent = nextMessage((h) => alice.onUserJoined(h))
  await bob.sendJoinRoom({ room: 'lobby' })
  const joined = await joinedEvent
  t.match(joined.payload, { userId: 'bob', version: Number })
  t.equal(joined.meta.room, 'lobby')
  const leftEvent = nextMessage((h) => alice.onUserLeft(h))
  t.same(await bob.sendLeaveRoom({ room: 'lobby' }), { room: 'lobby' })
  t.match((await leftEvent).payload, { userId: 'bob', version: Number })
  t.same(bob.rooms, [], 'a left room is no longer re-joined')
})

t.test('the members view follows the room: live while small, partial past the server\'s list limit, complete again after fetchMembers', async (t) => {
  const server = await startServer(0, { presence: { listLimit: 2 } })
  const alice = client(server.url)
  const as = (user: string): any => client(server.url, { token: () => tokenFor(user) })
  t.equal(alice.members('lobby'), undefined, 'no view of a room not joined')
  await alice.sendJoinRoom({ room: 'lobby' })
  t.same(alice.members('lobby'), { users: ['alice'], count: 1, complete: true, presence: {} })
  const bob = as('bob')
  const bobArrived = nextEvent(alice, 'members', (e: { room: string }) => e.room === 'lobby')
  await bob.sendJoinRoom({ room: 'lobby' })
  await bobArrived
  t.same(alice.members('lobby'), { users: ['alice', 'bob'], count: 2, complete: true, presence: {} }, 'user_joined keeps it exact')
  const crossed = nextEvent(alice, 'members', () => alice.members('lobby').count === 3)
  await as('carol').sendJoinRoom({ room: 'lobby' })
  await crossed
  t.same(alice.members('lobby'), { users: ['alice', 'bob'], count: 3, complete: false, presence: {} }, 'member_count: the list is partial, the count is right')
  t.same((await alice.fetchMembers('lobby')), ['alice', 'bob', 'carol'], 'every member, page by page')
  t.same(alice.members('lobby'), { users: ['alice', 'bob', 'carol'], count: 3, complete: true, presence: {} })
  const dave = as('dave')
  await dave.sendJoinRoom({ room: 'lobby' })
  t.same(dave.members('lobby').count, 4, 'a joiner past the limit gets the count')
  t.equal(dave.members('lobby').users.length, 2, 'and a capped list')
  t.equal(dave.members('lobby').complete, false)
  await alice.sendLeaveRoom({ room: 'lobby' })
  t.equal(alice.members('lobby'), undefined, 'a left room has no view')
})

t.test('an app-defined request resolves with its typed reply', async (t) => {
  const server = await startServer()
  const alice = client(server.url)
  await alice.sendJoinRoom({ room: 'stats' })
  t.same(await alice.sendGetRoomStats({ room: 'stats' }), { room: 'stats', members: 1 })
})

t.test('a request the server refuses rejects with a ServerError carrying the server\'s code', async (t) => {
  const server = await startServer()
  const alice = client(server.url)
  const error = await alice.sendMessage({ room: 'elsewhere', content: 'hi' }).catch((err: unknown) => err)
  t.ok(error instanceof sdk.ServerError)
  t.equal(error.code, 'not_in_room')
  t.equal(error.requestType, 'message')
  const invalid = await alice.sendJoinRoom({ room: '' }).catch((err: unknown) => err)
  t.equal(invalid.code, 'invalid_message')
  t.ok(invalid.details.length > 0, 'details list the failing paths')
  t.equal(alice.state, 'open', 'errors do not close the connection')
})

t.test('a request with no reply within its timeout rejects with RequestTimeoutError', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, { heartbeat: false })
  await alice.connect()
  proxy.freeze()
  const error = await alice.sendPing({}, { timeoutMs: 150 }).catch((err: unknown) => err)
  t.ok(error instanceof sdk.RequestTimeoutError)
  t.equal(error.requestType, 'ping')
})

t.test('a request in flight when the connection drops rejects with DisconnectedError', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, { heartbeat: false })
  await alice.connect()
  proxy.freeze()
  const pending = alice.sendPing().catch((err: unknown) => err)
  proxy.cut()
  const error = await pending
  t.ok(error instanceof sdk.DisconnectedError)
  t.equal(error.code, 1006)
})

t.test('after a server restart (1001) the client reconnects with backoff, re-joins its room, and a later message arrives', async (t) => {
  const first = await startServer()
  const alice = client(first.url)
  await alice.sendJoinRoom({ room: 'general' })
  await alice.sendMessage({ room: 'general', content: 'before' })

  const disconnected = nextEvent(alice, 'disconnected')
  const reconnecting = nextEvent(alice, 'reconnecting')
  await first.app.close()
  t.equal((await disconnected).code, 1001)
  const retry = await reconnecting
  t.equal(retry.attempt, 1)
  t.ok(retry.delayMs >= 0 && retry.delayMs < 20, 'first delay within the first full-jitter window')

  const rejoined = nextEvent(alice, 'rejoined')
  const second = await startServer(first.port)
  const event = await rejoined
  t.equal(event.room, 'general')
  t.equal(event.recovered, false, 'a new server has no history: the app is told nothing was recovered')
  t.equal(alice.state, 'open')

  const bob = client(second.url, { token: () => tokenFor('bob') })
  await bob.sendJoinRoom({ room: 'general' })
  const incoming = nextMessage((h) => alice.onMessage(h), (p) => p.content === 'after')
  await bob.sendMessage({ room: 'general', content: 'after' })
  const { payload, meta } = await incoming
  t.equal(payload.userId, 'bob')
  t.equal(meta.seq, 1, 'the restarted server numbers from 1 again')
})

t.test('sends made while offline wait in the queue and go out in order after the re-join', async (t) => {
  const first = await startServer()
  const alice = client(first.url, { queueSize: 3 })
  await alice.sendJoinRoom({ room: 'queue' })
  const reconnecting = nextEvent(alice, 'reconnecting')
  await first.app.close()
  await reconnecting
  const sends = ['one', 'two', 'three'].map((content) => alice.sendMessage({ room: 'queue', content }))
  const overflow = await alice.sendMessage({ room: 'queue', content: 'four' }).catch((err: unknown) => err)
  t.ok(overflow instanceof sdk.QueueFullError, 'over the bound: rejected at once')

  const received: string[] = []
  alice.onMessage((payload: { content: string }) => received.push(payload.content))
  await startServer(first.port)
  await Promise.all(sends)
  t.same(received, ['one', 'two', 'three'], 'delivered in order, after the room was joined again')
})

t.test('a refused token function is asked once more, then the client stops in state unauthorized', async (t) => {
  const server = await startServer()
  let calls = 0
  const alice = client(server.url, { token: () => { calls++; return tokenFor('alice', { secret: 'wrong-secret' }) } })
  const unauthorized = nextEvent(alice, 'unauthorized')
  const error = await alice.sendPing().catch((err: unknown) => err)
  t.equal((await unauthorized).code, 4001)
  t.equal(calls, 2)
  t.equal(alice.state, 'unauthorized')
  t.ok(error instanceof sdk.ClientClosedError, 'the queued send is rejected, not left hanging')
  const later = await alice.sendPing().catch((err: unknown) => err)
  t.ok(later instanceof sdk.ClientClosedError)
})

t.test('a refused token string stops at once: no retry', async (t) => {
  const server = await startServer()
  const alice = client(server.url, { token: tokenFor('alice', { secret: 'wrong-secret' }) })
  let retries = 0
  alice.on('reconnecting', () => { retries++ })
  const unauthorized = nextEvent(alice, 'unauthorized')
  alice.connect().catch(() => {})
  await unauthorized
  t.equal(retries, 0)
})

t.test('a half-open connection (the server stops answering without closing) is detected by the heartbeat and replaced', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, { heartbeat: { idleMs: 100, timeoutMs: 200 } })
  const first = await alice.connect()
  const disconnected = nextEvent(alice, 'disconnected')
  proxy.freeze()
  const lost = await disconnected
  t.equal(lost.reason, 'Heartbeat timeout')
  const reopened = await nextEvent(alice, 'open')
  t.not(reopened.connectionId, first.connectionId, 'a new connection')
  t.equal(proxy.connections, 2)
})

t.test('the token is refreshed on the open connection before it expires', async (t) => {
  const server = await startServer()
  let calls = 0
  const alice = client(server.url, {
    token: () => { calls++; return tokenFor('alice', { expiresInMs: 4000 }) },
    tokenRefresh: { beforeExpiryMs: 3000 },
  })
  const session = await alice.connect()
  const refreshed = await nextEvent(alice, 'tokenRefreshed')
  t.ok(refreshed.expiresAt > session.expiresAt, 'a later expiry')
  t.equal(alice.session.connectionId, session.connectionId, 'same connection')
  t.equal(calls, 2)
})

t.test('after a network loss the re-join recovers: the missed messages arrive once each, in seq order, then live ones', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, { heartbeat: false })
  const bob = client(server.url, { token: () => tokenFor('bob') })
  const seen: string[] = []
  alice.onMessage((payload: { content: string }, meta: { seq: number }) => seen.push(`${payload.content}#${meta.seq}`))
  alice.on('rejoined', ({ recovered, seq }: { recovered: boolean, seq: number }) => seen.push(`rejoined recovered=${recovered} seq=${seq}`))
  await alice.sendJoinRoom({ room: 'recovery' })
  await bob.sendJoinRoom({ room: 'recovery' })
  const first = nextMessage((h) => alice.onMessage(h), (p) => p.content === 'before')
  await bob.sendMessage({ room: 'recovery', content: 'before' })
  await first

  // The network goes down: alice's connection is cut and her reconnects are refused meanwhile.
  proxy.refusing = true
  const disconnected = nextEvent(alice, 'disconnected')
  proxy.cut()
  await disconnected
  for (const content of ['missed 1', 'missed 2', 'missed 3']) await bob.sendMessage({ room: 'recovery', content })
  t.equal(alice.state === 'open', false, 'alice is still offline while the messages are published')

  const rejoined = nextEvent(alice, 'rejoined')
  proxy.refusing = false
  const event = await rejoined
  t.same(event, { room: 'recovery', recovered: true, seq: 4 })
  const live = nextMessage((h) => alice.onMessage(h), (p) => p.content === 'live')
  await bob.sendMessage({ room: 'recovery', content: 'live' })
  await live
  t.same(seen, [
    'before#1',
    'rejoined recovered=true seq=4',
    'missed 1#2', 'missed 2#3', 'missed 3#4',
    'live#5',
  ], 'told of the recovery first, then each missed message once, in order, then the live one')
})

t.test('a re-join the server refuses emits rejoinFailed with the server error; the other rooms are re-joined', async (t) => {
  let vipOpen = true
  const server = await startServer(0, { authorizeJoin: (_user, room) => room !== 'vip' || vipOpen })
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, { heartbeat: false })
  await alice.sendJoinRoom({ room: 'vip' })
  await alice.sendJoinRoom({ room: 'lobby' })
  vipOpen = false
  const failed = nextEvent(alice, 'rejoinFailed')
  const rejoined = nextEvent(alice, 'rejoined')
  proxy.cut()
  const failure = await failed
  t.equal(failure.room, 'vip')
  t.ok(failure.error instanceof sdk.ServerError)
  t.equal(failure.error.code, 'forbidden')
  t.equal(failure.error.requestType, 'join_room')
  t.equal((await rejoined).room, 'lobby')
  t.same(alice.rooms, ['lobby'], 'the refused room is no longer tracked, so no later reconnect retries it')
  t.equal(alice.state, 'open', 'a refused re-join does not close the connection')
})

t.test('a token function that throws on a reconnect is reported and retried with backoff; queued sends wait for the connection', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  let calls = 0
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, {
    heartbeat: false,
    token: async () => {
      calls++
      if (calls === 2 || calls === 3) throw new Error('token service down')
      return tokenFor('alice')
    },
  })
  await alice.sendJoinRoom({ room: 'tokens' })
  const errors: Array<{ context: string, message: string }> = []
  alice.on('error', ({ error, context }: { error: Error, context: string }) => errors.push({ context, message: error.message }))
  const retries: Array<{ attempt: number, reason: string }> = []
  alice.on('reconnecting', ({ attempt, reason }: { attempt: number, reason: string }) => retries.push({ attempt, reason }))
  const reopened = nextEvent(alice, 'open')
  const disconnected = nextEvent(alice, 'disconnected')
  proxy.cut()
  await disconnected
  const queued = alice.sendMessage({ room: 'tokens', content: 'sent after the token came back' })
  await reopened
  await queued
  t.equal(calls, 4)
  t.same(errors, [{ context: 'token', message: 'token service down' }, { context: 'token', message: 'token service down' }], 'each failure is reported on the error event')
  t.same(retries, [
    { attempt: 1, reason: '' },
    { attempt: 2, reason: 'Token function failed' },
    { attempt: 3, reason: 'Token function failed' },
  ], 'a failing token function counts as a failed attempt: the backoff grows, it does not stop')
  t.not(alice.state, 'unauthorized')
  t.same(alice.rooms, ['tokens'])
})

t.test('a token function that never settles fails the attempt after connectTimeoutMs, and the next attempt connects', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  let calls = 0
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, {
    heartbeat: false,
    connectTimeoutMs: 300,
    token: () => ++calls === 2 ? new Promise<string>(() => {}) : tokenFor('alice'),
  })
  const first = await alice.connect()
  const errors: string[] = []
  alice.on('error', ({ context }: { context: string }) => errors.push(context))
  const timedOut = nextEvent(alice, 'reconnecting', (e) => e.reason === 'Token function timed out')
  const reopened = nextEvent(alice, 'open')
  proxy.cut()
  t.equal((await timedOut).attempt, 2)
  t.not((await reopened).connectionId, first.connectionId)
  t.equal(calls, 3)
  t.same(errors, ['token'], 'the hung token function is reported')
})

t.test('a send waiting offline longer than queueTimeoutMs rejects with QueueTimeoutError and is never sent; a longer bound still goes out', async (t) => {
  const server = await startServer()
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, { heartbeat: false, queueTimeoutMs: 150 })
  const bob = client(server.url, { token: () => tokenFor('bob') })
  await alice.sendJoinRoom({ room: 'offline' })
  await bob.sendJoinRoom({ room: 'offline' })
  const received: string[] = []
  bob.onMessage((payload: { content: string }) => received.push(payload.content))

  proxy.refusing = true
  const disconnected = nextEvent(alice, 'disconnected')
  proxy.cut()
  await disconnected
  const dropped = alice.sendMessage({ room: 'offline', content: 'dropped' }).catch((err: unknown) => err)
  const kept = alice.sendMessage({ room: 'offline', content: 'kept' }, { queueTimeoutMs: 10_000 })
  const error = await dropped
  t.ok(error instanceof sdk.QueueTimeoutError)
  t.equal(error.requestType, 'message')
  t.equal(error.timeoutMs, 150)
  t.equal(alice.state === 'open', false, 'it timed out while the client was still offline')

  proxy.refusing = false
  await kept
  const after = nextMessage((h) => bob.onMessage(h), (p) => p.content === 'after')
  await alice.sendMessage({ room: 'offline', content: 'after' })
  await after
  t.same(received, ['kept', 'after'], 'the timed-out send never reached the server')
})

t.test('close() rejects queued sends with ClientClosedError, not a later QueueTimeoutError', async (t) => {
  const alice = client('ws://127.0.0.1:1/ws', { queueTimeoutMs: 100 })
  const pending = alice.sendPing().catch((err: unknown) => err)
  alice.close()
  t.ok(await pending instanceof sdk.ClientClosedError)
})
