/**
 * The generated client's connection machine, from the app's side: the states it walks through,
 * and that a transition an event listener asks for (close() while reconnecting or just
 * disconnected) is the one that sticks.
 */
import t from 'tap'
import WebSocket from 'ws'
import { buildChatApp } from '../examples/chat/app.js'
import { SECRET, tokenFor } from './helpers/index.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent } from './helpers/sdk.js'

const generated = await generateInto(t, CHAT_DOCUMENT)
const sdk = await loadPackage(generated.outDir)

/** Nothing listens on port 1: every attempt is refused at once. */
const REFUSED = 'ws://127.0.0.1:1/ws'

/** A policy that retries at once, counting how often it was asked. */
function immediateRetries (): { opened (): void, next (): { attempt: number, delayMs: number }, asked: number } {
  return { asked: 0, opened () {}, next () { return { attempt: ++this.asked, delayMs: 0 } } }
}

function client (url: string, options: Record<string, unknown> = {}): any {
  const c = sdk.createClient({ url, token: tokenFor('alice'), WebSocket, heartbeat: false, ...options })
  t.teardown(() => c.close())
  return c
}

/** Let every timer due now run (the retry delay is 0), then a little more. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50))

t.test('close() from a reconnecting listener stops the client: no further attempt is made', async (t) => {
  const policy = immediateRetries()
  const c = client(REFUSED, { reconnect: policy })
  let attempts = 0
  c.on('connecting', () => { attempts++ })
  c.on('reconnecting', () => c.close())
  const closed = nextEvent(c, 'closed')
  await t.rejects(c.connect(), { name: 'ClientClosedError' })
  await closed
  await settle()
  t.equal(c.state, 'closed')
  t.equal(attempts, 1, 'only the first attempt')
  t.equal(policy.asked, 1)
})

t.test('close() from a disconnected listener stops the client: it does not go on to reconnect', async (t) => {
  const policy = immediateRetries()
  const c = client(REFUSED, { reconnect: policy })
  const states: string[] = []
  c.on('state', ({ state }: { state: string }) => states.push(state))
  c.on('disconnected', () => c.close())
  await t.rejects(c.connect(), { name: 'ClientClosedError' })
  await settle()
  t.same(states, ['connecting', 'closed'])
  t.equal(policy.asked, 0, 'the reconnect policy was never asked')
})

t.test('a server restart walks the states idle → connecting → open → reconnecting → connecting → open, with the session renewed', async (t) => {
  const first = await buildChatApp({ jwtSecret: SECRET })
  await first.listen({ host: '127.0.0.1', port: 0 })
  const port = (first.server.address() as { port: number }).port
  const c = client(`ws://127.0.0.1:${port}/ws`, { reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 50 }) })
  const states: string[] = [c.state]
  const broken: string[] = []
  const off = c.on('state', ({ state, previous }: { state: string, previous: string }) => {
    if (previous !== states[states.length - 1]) broken.push(`${previous} → ${state} after ${states[states.length - 1]}`)
    states.push(state)
  })
  const session = await c.connect()
  const reconnecting = nextEvent(c, 'reconnecting')
  await first.close()
  t.equal((await reconnecting).code, 1001, 'the server said it is going away')
  const second = await buildChatApp({ jwtSecret: SECRET })
  t.teardown(() => second.close())
  await second.listen({ host: '127.0.0.1', port })
  const renewed = await nextEvent(c, 'open', () => true, 10_000)
  t.not(renewed.connectionId, session.connectionId, 'a new connection')
  t.equal(c.session.connectionId, renewed.connectionId)
  off()
  t.same(broken, [], 'every transition starts where the last one ended')
  // Attempts refused while the port was down add connecting ⇄ reconnecting pairs; the shape is fixed.
  t.same(states.slice(0, 4), ['idle', 'connecting', 'open', 'reconnecting'])
  t.same(states.slice(-2), ['connecting', 'open'])
  t.match(states.slice(3, -1).join(' '), /^reconnecting connecting( reconnecting connecting)*$/)
})
