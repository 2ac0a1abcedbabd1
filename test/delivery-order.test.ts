/**
 * Ordering guarantees that only show with an adapter that answers asynchronously (like Redis):
 * `connected` is the first frame, and `room_joined` comes before the room's live frames.
 */
import t from 'tap'
import WebSocket from 'ws'
import { MemoryAdapter } from '../plugin.js'
import { buildApp, connect, joined, sleep, tokenFor, TestClient } from './helpers/index.js'

/** The in-memory adapter with the latency of a network round trip on setup and membership reads. */
class SlowAdapter extends MemoryAdapter {
  constructor (private readonly delayMs: number) { super() }
  async addConnection (): Promise<void> { await sleep(this.delayMs) }
  override members (room: string): string[] { return super.members(room) }
  async slowMembers (room: string): Promise<string[]> { await sleep(this.delayMs); return super.members(room) }
}

t.test('connected is the first frame even when the adapter registers the connection asynchronously', async (t) => {
  const adapter = new SlowAdapter(100)
  const server = await buildApp(t, { adapter })
  const early = await connect(t, server, 'bob')
  // A second connection of bob: frames it sends at once, and a sendToUser during its setup, must wait for `connected`.
  const socket = new WebSocket(`${server.url}?token=${tokenFor('bob')}`)
  const client = new TestClient(socket)
  t.teardown(() => client.close())
  await new Promise<void>((resolve) => socket.once('open', () => resolve()))
  socket.send(JSON.stringify({ type: 'ping', id: 'p1' }))
  await server.app.ws.sendToUser('bob', 'message', { userId: 'system', content: 'during setup', ts: 1 })
  t.equal((await early.waitFor('message')).payload.content, 'during setup', 'the greeted connection gets it')
  const first = await client.waitFor(() => true, 3000)
  t.equal(first.type, 'connected')
  t.equal((await client.waitFor((frame) => frame.id === 'p1')).type, 'pong', 'the early frame was answered after the greeting')
  t.same(client.pending('message'), [], 'nothing reached the connection before its greeting')
})

t.test('room_joined comes before the room\'s live frames even when membership reads are slow', async (t) => {
  const adapter = new SlowAdapter(100)
  adapter.members = (room: string) => adapter.slowMembers(room) as never
  const server = await buildApp(t, { adapter })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  const bob = await connect(t, server, 'bob')
  bob.send('join_room', { room: 'general' }, 'j')
  await sleep(30) // bob is in the room index, the members read is in flight
  await alice.request('message', { room: 'general', content: 'while bob joins' })
  const firstForBob = await bob.waitFor((frame) => frame.type === 'room_joined' || frame.type === 'message', 3000)
  t.equal(firstForBob.type, 'room_joined', 'the reply first')
  t.equal((await bob.waitFor('message')).payload.content, 'while bob joins', 'then the live frame, not lost')
})
