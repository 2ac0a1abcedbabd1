/**
 * Members views converge when two instances' presence announcements arrive out of order. Found by
 * the chaos run (bench/chaos): a user's old instance announced `user_left` after their new
 * instance announced `user_joined`, and the other members' views lacked a user who was in the
 * room. Each change of a room's users gets the room's next presence version in the store's own
 * step; announcements and lists carry it, and the generated client drops what is older than what
 * it holds. Here one instance's `user_left` is held back until the other's `user_joined` is out.
 */
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import type { ClusterAdapter, RoomPublish } from '../plugin.js'
import { buildApp, connect, joined, tokenFor, type TestApp } from './helpers/index.js'
import { InProcessCluster } from './helpers/in-process-cluster.js'
import { useRedis } from './helpers/redis.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent, nextMessage } from './helpers/sdk.js'

const sdk = await loadPackage((await generateInto(t, CHAT_DOCUMENT)).outDir)

/** Holds the adapter's `user_left` publishes until `release()`; `held` settles once one is waiting. */
function holdDepartures (adapter: ClusterAdapter): { held: Promise<void>, release: () => void } {
  const publish = adapter.publishToRoom.bind(adapter)
  const waiting: Array<() => void> = []
  let holding = true
  let noteHeld!: () => void
  const held = new Promise<void>((resolve) => { noteHeld = resolve })
  adapter.publishToRoom = async (message: RoomPublish) => {
    if (holding && message.frame.head.includes('"type":"user_left"')) {
      await new Promise<void>((resolve) => { waiting.push(resolve); noteHeld() })
    }
    return await publish(message)
  }
  return { held, release: () => { holding = false; for (const resume of waiting.splice(0)) resume() } }
}

function client (t: Test, target: TestApp, user: string): any {
  const c = sdk.createClient({ url: target.url, token: () => tokenFor(user), WebSocket })
  t.teardown(() => c.close())
  return c
}

type Instances = (t: Test) => Promise<{ a: TestApp, b: TestApp, gate: ReturnType<typeof holdDepartures> }>

function orderSuite (t: Test, instances: Instances): void {
  t.test('a user\'s stale user_left from their old instance, arriving after their user_joined from the new one, leaves them in every view', async (t) => {
    const { a, b, gate } = await instances(t)
    const carol = client(t, b, 'carol')
    await carol.sendJoinRoom({ room: 'r' })
    const old = await connect(t, a, 'alice')
    const arrived = nextEvent(carol, 'members', () => carol.members('r')?.users.includes('alice') === true)
    await joined(old, 'r')
    await arrived

    // Alice's connection on A goes (a deploy, a cut): A records the departure, its user_left is held.
    old.socket.terminate()
    await gate.held
    // She is back through B: B records the arrival and announces it.
    const back = await connect(t, b, 'alice')
    const rejoined = nextMessage((handler) => carol.onUserJoined(handler), (payload: { userId: string }) => payload.userId === 'alice')
    await joined(back, 'r')
    await rejoined
    // Only now does A's older user_left go out.
    const stale = nextMessage((handler) => carol.onUserLeft(handler), (payload: { userId: string, version?: number }) => payload.userId === 'alice')
    gate.release()
    const { payload } = await stale
    t.type(payload.version, 'number', 'the stale user_left carries its version')
    t.same({ ...carol.members('r'), users: [...carol.members('r').users].sort() }, { users: ['alice', 'carol'], count: 2, complete: true, presence: {} }, 'carol still lists alice')

    const dave = await connect(t, a, 'dave')
    const reply = await joined(dave, 'r')
    t.same([[...reply.payload.members].sort(), reply.payload.memberCount], [['alice', 'carol', 'dave'], 3], 'a joiner\'s list and count agree')
    t.type(reply.payload.version, 'number', 'and come with their version')
  })
}

t.test('on an in-process cluster', async (t) => {
  orderSuite(t, async (t) => {
    const cluster = new InProcessCluster()
    const first = cluster.adapter()
    const gate = holdDepartures(first)
    return { a: await buildApp(t, { adapter: first }), b: await buildApp(t, { adapter: cluster.adapter() }), gate }
  })
})

t.test('on Redis', async (t) => {
  const redis = await useRedis(t)
  if (redis === undefined) return
  orderSuite(t, async (t) => {
    const first = redis.adapter()
    const gate = holdDepartures(first)
    return { a: await buildApp(t, { adapter: first }), b: await buildApp(t, { adapter: redis.adapter() }), gate }
  })
})
