/**
 * Scenarios of several instances on one Redis deployment, over real sockets: one `seq` order
 * everywhere, replies in frame order, typing, user routing, presence and exclusions across
 * instances. Run on one Redis (redis-cluster.test.ts) and on Redis Cluster (redis-sharded.test.ts).
 */
import { Type } from 'typebox'
import { defineProtocol, wsOf, type Adapter } from '../../plugin.js'
import { buildApp, connect, type Frame, type TestApp, type TestClient } from './index.js'

export const scenarioProtocol = defineProtocol()
  .server('notice', { durable: false, payload: Type.Object({ text: Type.String() }) })
  .server('announcement', { payload: Type.Object({ text: Type.String() }) })

const protocol = scenarioProtocol

interface Tap { test(name: string, fn: (t: any) => Promise<void>): unknown }

/** Instances of one deployment: `adapter(keyPrefix)` makes one instance's adapter. */
export type InstanceFactory = (keyPrefix: string) => Adapter

/** `count` instances sharing one deployment (their own key prefix), each on its own port. */
export async function instances (t: any, makeAdapter: InstanceFactory, count: number, keyPrefix = `ws${Math.random().toString(36).slice(2, 10)}:`): Promise<TestApp[]> {
  const apps: TestApp[] = []
  for (let i = 0; i < count; i++) apps.push(await buildApp(t, { protocol, adapter: makeAdapter(keyPrefix), rateLimit: false }))
  return apps
}

export async function member (t: any, app: TestApp, userId: string, room: string): Promise<TestClient> {
  const client = await connect(t, app, userId)
  const reply = await client.request('join_room', { room })
  if (reply.type !== 'room_joined') throw new Error(`join failed: ${JSON.stringify(reply)}`)
  return client
}

async function frames (client: TestClient, type: string, count: number): Promise<Frame[]> {
  const out: Frame[] = []
  for (let i = 0; i < count; i++) out.push(await client.waitFor(type, 3000, `${type} ${i + 1} of ${count}`))
  return out
}

export function multiInstanceScenarios (t: Tap, makeAdapter: InstanceFactory): void {
  const cluster = async (t: any, count: number): Promise<TestApp[]> => await instances(t, makeAdapter, count)
  t.test('members on three instances receive every message, all in the same strictly increasing seq order', async (t) => {
    const apps = await cluster(t, 3)
    const clients = [await member(t, apps[0]!, 'alice', 'r'), await member(t, apps[1]!, 'bob', 'r'), await member(t, apps[2]!, 'carol', 'r')]
    // All three send at once, so frames from different instances interleave in Redis.
    await Promise.all(clients.map(async (client, n) => {
      for (let i = 0; i < 10; i++) client.send('message', { room: 'r', content: `${n}:${i}` }, `m${i}`)
      for (let i = 0; i < 10; i++) await client.waitFor((frame) => frame.type === 'ack' && frame.id === `m${i}`, 3000, `ack of m${i}`)
    }))
    const seen = await Promise.all(clients.map((client) => frames(client, 'message', 30)))
    const expected = Array.from({ length: 30 }, (_, i) => i + 1)
    for (const [n, received] of seen.entries()) {
      t.same(received.map((m) => m.seq), expected, `member ${n} sees seq 1…30 in order`)
      t.same(received.map((m) => m.payload.content), seen[0]!.map((m) => m.payload.content), `member ${n} sees the same order as member 0`)
    }
    t.equal(new Set(seen[0]!.map((m) => m.payload.content)).size, 30, 'every message once, the sender\'s own included')
  })

  t.test('back-to-back messages of one connection get seqs in the order sent, replies in frame order, and a later request waits for them', async (t) => {
    const apps = await cluster(t, 2)
    const alice = await member(t, apps[0]!, 'alice', 'r')
    const bob = await member(t, apps[1]!, 'bob', 'r')
    // Sent without waiting: the messages are pipelined; ping, the refused message and leave_room are not.
    const ids: string[] = []
    const message = (i: number): void => { ids.push(`m${i}`); alice.send('message', { room: 'r', content: String(i) }, `m${i}`) }
    for (let i = 0; i < 10; i++) message(i)
    ids.push('p'); alice.send('ping', {}, 'p')
    for (let i = 10; i < 15; i++) message(i)
    ids.push('bad'); alice.send('message', { room: 'elsewhere', content: 'x' }, 'bad')
    for (let i = 15; i < 20; i++) message(i)
    ids.push('l'); alice.send('leave_room', { room: 'r' }, 'l')
    await alice.waitFor((frame) => frame.id === 'l', 3000, 'reply to leave_room')
    const replies = alice.pending().filter((frame) => frame.id !== undefined)
    t.same([...replies.map((frame) => frame.id), 'l'], ids, 'one reply per request, in the order sent')
    t.equal(replies.find((frame) => frame.id === 'bad')?.payload.code, 'not_in_room')
    t.match((await bob.waitFor('user_left', 3000)).payload, { userId: 'alice', version: Number })
    const received = bob.pending('message')
    t.equal(received.length, 20, 'the leave took effect after every message: all arrived before user_left')
    t.same(received.map((m) => m.payload.content), Array.from({ length: 20 }, (_, i) => String(i)), 'delivered in the order sent')
    t.same(received.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => received[0]!.seq! + i), 'consecutive seqs')
  })

  t.test('typing reaches the members on other instances and never the typist', async (t) => {
    const apps = await cluster(t, 3)
    const alice = await member(t, apps[0]!, 'alice', 'r')
    const bob = await member(t, apps[1]!, 'bob', 'r')
    const carol = await member(t, apps[2]!, 'carol', 'r')
    const alice2 = await member(t, apps[2]!, 'alice', 'r')
    alice.send('typing', { room: 'r' })
    t.same((await bob.waitFor('typing')).payload, { userId: 'alice' })
    t.same((await carol.waitFor('typing')).payload, { userId: 'alice' })
    t.ok(await alice.expectNone('typing'), 'not the typing connection')
    t.ok(await alice2.expectNone('typing'), 'not the typist\'s other connection on another instance')
  })

  t.test('sendToUser from one instance reaches the user\'s connections on two other instances', async (t) => {
    const apps = await cluster(t, 3)
    const onA = await connect(t, apps[0]!, 'dave')
    const onC = await connect(t, apps[2]!, 'dave')
    const other = await connect(t, apps[1]!, 'erin')
    await wsOf(apps[1]!.app, protocol).sendToUser('dave', 'notice', { text: 'hi' })
    t.same((await onA.waitFor('notice')).payload, { text: 'hi' })
    t.same((await onC.waitFor('notice')).payload, { text: 'hi' })
    t.ok(await other.expectNone('notice'), 'no one else')
  })

  t.test('user_joined and user_left follow a user\'s first and last connection across instances', async (t) => {
    const apps = await cluster(t, 3)
    const alice = await member(t, apps[0]!, 'alice', 'r')
    const bobB = await connect(t, apps[1]!, 'bob')
    const joined = await bobB.request('join_room', { room: 'r' })
    t.same(joined.payload.members.sort(), ['alice', 'bob'], 'room_joined lists members of every instance')
    t.match((await alice.waitFor('user_joined')).payload, { userId: 'bob', version: Number })
    const bobC = await member(t, apps[2]!, 'bob', 'r')
    t.ok(await alice.expectNone('user_joined'), 'a second connection on another instance is no arrival')
    for (const app of apps) t.same((await app.app.ws.members('r')).sort(), ['alice', 'bob'], 'every instance lists the same members')
    await bobB.close()
    t.ok(await alice.expectNone('user_left'), 'bob is still there through instance C')
    await bobC.close()
    t.match((await alice.waitFor('user_left')).payload, { userId: 'bob', version: Number })
    for (const app of apps) t.same(await app.app.ws.members('r'), ['alice'])
  })

  t.test('a broadcast with exclusions skips the excluded users on every instance', async (t) => {
    const apps = await cluster(t, 3)
    const alice = await member(t, apps[0]!, 'alice', 'r')
    const bob = await member(t, apps[1]!, 'bob', 'r')
    const carol = await member(t, apps[2]!, 'carol', 'r')
    const carolOnA = await member(t, apps[0]!, 'carol', 'r')
    const seq = await wsOf(apps[1]!.app, protocol).broadcast('r', 'announcement', { text: 'x' }, { except: { users: ['carol'] } })
    t.equal((await alice.waitFor('announcement')).seq, seq)
    t.equal((await bob.waitFor('announcement')).seq, seq)
    t.ok(await carol.expectNone('announcement'))
    t.ok(await carolOnA.expectNone('announcement'))
  })

}
