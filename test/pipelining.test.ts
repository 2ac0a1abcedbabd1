import t from 'tap'
import { MemoryAdapter, type RoomPublish } from '../plugin.js'
import { buildApp, connect, joined, until } from './helpers/index.js'

type Teardown = Parameters<typeof buildApp>[0]

/** A memory adapter whose publishes, once gated, answer only when released, as a remote store would. */
class GatedAdapter extends MemoryAdapter {
  gated = false
  started = 0
  private readonly waiting: Array<() => void> = []

  constructor (readonly ordersPublishes: boolean) {
    super()
  }

  override publishToRoom (message: RoomPublish): number | undefined {
    if (!this.gated) return super.publishToRoom(message)
    this.started++
    const seq = super.publishToRoom(message)
    return new Promise<number | undefined>((resolve) => this.waiting.push(() => resolve(seq))) as unknown as number | undefined
  }

  release (): void {
    for (const resolve of this.waiting.splice(0)) resolve()
  }
}

async function twoMessagesInFlight (t: Teardown, ordersPublishes: boolean): Promise<{ startedWhileFirstPending: number, acks: unknown[] }> {
  const adapter = new GatedAdapter(ordersPublishes)
  const server = await buildApp(t, { adapter })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'r')
  adapter.gated = true
  alice.send('message', { room: 'r', content: 'one' }, 'm1')
  alice.send('message', { room: 'r', content: 'two' }, 'm2')
  await until(() => server.app.ws.stats().messagesIn === 3, 'both messages reached the server')
  const startedWhileFirstPending = adapter.started
  adapter.release()
  await until(() => adapter.started === 2, 'the second publish started')
  adapter.release()
  await until(() => alice.pending('ack').length === 2, 'both acks arrived')
  return { startedWhileFirstPending, acks: alice.pending('ack').map((frame) => frame.id) }
}

t.test('with an adapter that orders publishes, a connection\'s next message starts while the previous publish is pending', async (t) => {
  const { startedWhileFirstPending, acks } = await twoMessagesInFlight(t, true)
  t.equal(startedWhileFirstPending, 2)
  t.same(acks, ['m1', 'm2'], 'acks in frame order')
})

t.test('with an adapter that does not order publishes, a connection\'s next message waits for the previous publish', async (t) => {
  const { startedWhileFirstPending, acks } = await twoMessagesInFlight(t, false)
  t.equal(startedWhileFirstPending, 1)
  t.same(acks, ['m1', 'm2'], 'acks in frame order')
})
