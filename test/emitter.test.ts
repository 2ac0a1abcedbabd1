/**
 * Publish from anywhere: a separate Node process with no WebSocket server publishes through the
 * emitter (`fastify-ws-rooms/emitter`) into the Redis two server instances share. Seen from the
 * clients: the same seq order, history and recovery as `app.ws.broadcast`.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { parseDependencyTree } from 'dpdm'
import { Redis } from 'ioredis'
import { chatProtocol } from '../examples/chat/protocol.js'
import { WsEmitter } from '../emitter.js'
import { buildApp, connect, joined, type TestApp, type TestClient } from './helpers/index.js'
import { REDIS_URL, useRedis, type RedisTestContext } from './helpers/redis.js'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Run the emitter fixture in its own process; resolves to the seqs it was given. */
async function emitFromAnotherProcess (prefix: string, steps: unknown[]): Promise<Array<number | null>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/emit.ts'], {
    cwd: root,
    env: { ...process.env, REDIS_URL, KEY_PREFIX: prefix, EMIT_STEPS: JSON.stringify(steps) },
  })
  return JSON.parse(stdout) as Array<number | null>
}

async function twoInstances (t: any, redis: RedisTestContext): Promise<[TestApp, TestApp]> {
  const a = await buildApp(t, { protocol: chatProtocol, adapter: redis.adapter(), rateLimit: false })
  const b = await buildApp(t, { protocol: chatProtocol, adapter: redis.adapter(), rateLimit: false })
  return [a, b]
}

async function messages (client: TestClient, count: number): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < count; i++) {
    const frame = await client.waitFor((f) => f.type === 'message' || f.type === 'reaction', 5000)
    seen.push(`${frame.type}:${frame.payload.content ?? frame.payload.emoji}#${frame.seq}`)
  }
  return seen
}

t.test('the emitter entry loads no Fastify and no ws: only ioredis and this package\'s own modules', async (t) => {
  const tree = await parseDependencyTree(['emitter.ts'], { context: root, tsconfig: `${root}tsconfig.json`, transform: true })
  const packages = new Set<string>()
  for (const dependencies of Object.values(tree)) {
    for (const dependency of dependencies ?? []) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(dependency.id ?? dependency.request)
      if (match !== null) packages.add(match[1]!)
      else if (!dependency.request.startsWith('.') && !dependency.request.startsWith('node:')) packages.add(dependency.request)
    }
  }
  t.ok(Object.keys(tree).includes('lib/emitter.ts'), 'the graph was walked')
  t.same([...packages].filter((name) => !['ioredis', 'typebox'].includes(name)), [], `runtime packages: ${[...packages].join(', ')}`)
})

t.test('through Redis', async (t) => {
  const redis = await useRedis(t)
  if (redis === undefined) return

  t.test('messages a separate process publishes reach members on two instances in one seq order, with the seqs it was given', async (t) => {
    const [a, b] = await twoInstances(t, redis)
    const alice = await connect(t, a, 'alice')
    const bob = await connect(t, b, 'bob')
    await joined(alice, 'news')
    await joined(bob, 'news')
    await alice.request('message', { room: 'news', content: 'from a client' })

    const seqs = await emitFromAnotherProcess(redis.prefix, [
      { broadcast: { room: 'news', content: 'one' } },
      { react: { room: 'news', seq: 1, emoji: '👍' } },
      { broadcast: { room: 'news', content: 'two' } },
    ])
    t.same(seqs, [2, 3, 4], 'the emitter continues the room\'s numbering')
    const expected = ['message:from a client#1', 'message:one#2', 'reaction:👍#3', 'message:two#4']
    t.same(await messages(alice, 4), expected, 'instance A')
    t.same(await messages(bob, 4), expected, 'instance B')
  })

  t.test('a client that was away recovers what the emitter published meanwhile', async (t) => {
    const [a, b] = await twoInstances(t, redis)
    const bob = await connect(t, b, 'bob')
    await joined(bob, 'recovery')
    const carol = await connect(t, a, 'carol')
    const first = await carol.request('join_room', { room: 'recovery' })
    await emitFromAnotherProcess(redis.prefix, [{ broadcast: { room: 'recovery', content: 'seen' } }])
    const seen = await carol.waitFor('message')
    await carol.close()

    await emitFromAnotherProcess(redis.prefix, [
      { broadcast: { room: 'recovery', content: 'missed 1' } },
      { broadcast: { room: 'recovery', content: 'missed 2' } },
    ])
    const back = await connect(t, a, 'carol')
    const reply = await back.request('join_room', { room: 'recovery', since: seen.seq, epoch: first.payload.epoch })
    t.same(reply.payload, { room: 'recovery', members: reply.payload.members, memberCount: 2, version: reply.payload.version, seq: 3, epoch: first.payload.epoch, recovered: true },
      'the emitter numbers the room in the same epoch as the servers')
    t.same(await messages(back, 2), ['message:missed 1#2', 'message:missed 2#3'], 'replayed in seq order')
  })

  t.test('sendToUser and disconnect from the emitter reach the user\'s connections on both instances', async (t) => {
    const [a, b] = await twoInstances(t, redis)
    const alice1 = await connect(t, a, 'alice')
    const alice2 = await connect(t, b, 'alice')
    const emitter = new WsEmitter({ url: REDIS_URL, keyPrefix: redis.prefix, protocol: chatProtocol })
    t.teardown(() => emitter.close())
    await emitter.sendToUser('alice', 'room_stats', { room: 'news', members: 3 })
    for (const alice of [alice1, alice2]) t.same((await alice.waitFor('room_stats')).payload, { room: 'news', members: 3 })
    await emitter.addToRoom({ userId: 'alice' }, 'news')
    for (const alice of [alice1, alice2]) t.equal((await alice.waitFor('room_added')).payload.room, 'news')
    t.same(await emitter.members('news'), ['alice'], 'presence is readable from the emitter')
    await emitFromAnotherProcess(redis.prefix, [{ disconnect: { userId: 'alice', reason: 'Banned' } }])
    for (const alice of [alice1, alice2]) t.same(await alice.closed, { code: 4009, reason: 'Banned' })
  })

  t.test('an ioredis client with its own keyPrefix is refused: it would prefix keys but not channels', async (t) => {
    const client = new Redis(REDIS_URL, { keyPrefix: 'other:', lazyConnect: true })
    t.throws(() => new WsEmitter({ redis: client }), { code: 'WS_ERR_INVALID_OPTION' })
    t.throws(() => new WsEmitter({ url: REDIS_URL, redisOptions: { keyPrefix: 'other:', lazyConnect: true } }), { code: 'WS_ERR_INVALID_OPTION' })
    client.disconnect()
  })

  t.test('a message type the protocol does not declare is refused before anything is sent', async (t) => {
    const emitter = new WsEmitter({ url: REDIS_URL, keyPrefix: redis.prefix })
    t.teardown(() => emitter.close())
    await t.rejects(emitter.broadcast('quiet', 'reaction' as never, {} as never), TypeError, 'reaction needs the chat protocol')
    t.equal(await redis.admin.get(`${redis.prefix}{r:quiet}:seq`), null, 'no seq was taken')
  })
})
