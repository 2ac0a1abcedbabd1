/**
 * The generated client in a real browser: bundled with esbuild into a page served by the test's
 * server, run in headless Chromium with the browser's own WebSocket. Also: a reconnect waiting out
 * a long backoff delay happens at once when the page comes back online or visible.
 */
import { build } from 'esbuild'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildChatApp } from '../examples/chat/app.js'
import { launchBrowser } from './helpers/browser.js'
import { SECRET, tokenFor } from './helpers/index.js'
import { CHAT_DOCUMENT, generateInto } from './helpers/sdk.js'

const generated = await generateInto(t, CHAT_DOCUMENT)

/** The page's script: everything it observes lands in `window.results`. */
const PAGE_SCRIPT = `
import { createClient } from '${generated.outDir}/dist/index.js'

const results = { states: [], messages: [], joined: undefined, error: undefined }
window.results = results
const params = new URLSearchParams(location.search)
const client = createClient({ url: 'ws://' + location.host + '/ws', token: async () => params.get('token') })
client.on('state', ({ state }) => results.states.push(state))
client.onMessage((payload, meta) => results.messages.push({ ...payload, room: meta.room, seq: meta.seq }))
try {
  results.joined = await client.sendJoinRoom({ room: 'browser' })
  await client.sendMessage({ room: 'browser', content: 'hello from chromium' })
} catch (error) {
  results.error = String(error)
}
`

/** The page script bundled with the generated package, as the browser loads it. */
async function bundle (script: string): Promise<string> {
  const result = await build({
    stdin: { contents: script, resolveDir: generated.outDir, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  })
  return result.outputFiles[0]!.text
}

t.test('in headless Chromium the bundled client connects, joins, sends and receives', async (t) => {
  const code = await bundle(PAGE_SCRIPT)
  const app = await buildChatApp({ jwtSecret: SECRET })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<!doctype html><title>sdk</title><script type="module" src="/client.js"></script>'))
  app.get('/client.js', async (_request, reply) => reply.type('text/javascript').send(code))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }

  const browser = await launchBrowser(t)
  const context = await browser.newContext()
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  await page.goto(`http://127.0.0.1:${port}/?token=${encodeURIComponent(tokenFor('carol'))}`)
  await page.waitForFunction(() => {
    const results = (globalThis as unknown as { results?: { messages: unknown[], error?: string } }).results
    return results !== undefined && (results.messages.length > 0 || results.error !== undefined)
  }, undefined, { timeout: 10_000 })
  const results = await page.evaluate(() => (globalThis as unknown as { results: any }).results)

  t.equal(results.error, undefined)
  t.same(results.joined.members, ['carol'])
  t.same(results.messages, [{ userId: 'carol', content: 'hello from chromium', ts: results.messages[0].ts, room: 'browser', seq: 1 }])
  t.same(results.states, ['connecting', 'open'])
  t.same(pageErrors, [])
  t.same(browser.offHost, [], 'nothing left the machine')
})

/** A client whose every retry waits 60 s: only a wake can bring it back within the test. */
const WAKE_SCRIPT = `
import { createClient } from '${generated.outDir}/dist/index.js'

const params = new URLSearchParams(location.search)
const results = { opens: 0, reconnecting: [], rejoined: [] }
let attempt = 0
const client = createClient({
  url: 'ws://127.0.0.1:' + params.get('wsPort') + '/ws',
  token: async () => params.get('token'),
  heartbeat: false,
  reconnect: { opened () {}, next () { return { attempt: ++attempt, delayMs: 60000 } } },
})
client.on('open', () => { results.opens++ })
client.on('reconnecting', ({ delayMs }) => results.reconnecting.push(delayMs))
client.on('rejoined', ({ room }) => results.rejoined.push(room))
window.results = results
window.client = client
await client.sendJoinRoom({ room: 'wake' })
`

/** The page's globals, typed without the DOM library (these functions run in the page). */
interface WakePage extends EventTarget {
  results: { opens: number, reconnecting: number[], rejoined: string[] }
  client: { state: string }
  document: EventTarget & { visibilityState: string }
}

t.test('in Chromium, a client waiting out a 60 s backoff reconnects at once when the page comes back online or visible', async (t) => {
  const code = await bundle(WAKE_SCRIPT)
  const site = Fastify({ logger: false })
  site.get('/', async (_request, reply) => reply.type('text/html').send('<!doctype html><title>wake</title><script type="module" src="/wake.js"></script>'))
  site.get('/wake.js', async (_request, reply) => reply.type('text/javascript').send(code))
  await site.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => site.close())

  // The WebSocket server goes down and comes back on the same port; the page stays loaded.
  let wsPort = 0
  const startWs = async (): Promise<FastifyInstance> => {
    const app = await buildChatApp({ jwtSecret: SECRET })
    await app.listen({ host: '127.0.0.1', port: wsPort })
    wsPort = (app.server.address() as { port: number }).port
    t.teardown(() => app.close())
    return app
  }
  let ws = await startWs()

  const browser = await launchBrowser(t)
  const page = await (await browser.newContext()).newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  const { port } = site.server.address() as { port: number }
  await page.goto(`http://127.0.0.1:${port}/?wsPort=${wsPort}&token=${encodeURIComponent(tokenFor('dave'))}`)
  await page.waitForFunction(() => (globalThis as unknown as WakePage).results?.opens === 1, undefined, { timeout: 10_000 })

  const goDownAndUp = async (reconnects: number): Promise<void> => {
    await ws.close()
    await page.waitForFunction((n) => (globalThis as unknown as WakePage).results.reconnecting.length === n, reconnects, { timeout: 10_000 })
    ws = await startWs()
  }

  await goDownAndUp(1)
  t.same(await page.evaluate(() => (globalThis as unknown as WakePage).results.reconnecting), [60_000], 'waiting out a 60 s delay')
  t.equal(await page.evaluate(() => (globalThis as unknown as WakePage).client.state), 'reconnecting', 'the server is back, but the client still waits')
  const afterOnline = await page.evaluate(() => {
    const window = globalThis as unknown as WakePage
    window.dispatchEvent(new Event('online'))
    return window.client.state
  })
  t.equal(afterOnline, 'connecting', 'online: the delay is cut short')
  // Far below the 60 s the backoff asked for: only the wake can have brought it back.
  await page.waitForFunction(() => (globalThis as unknown as WakePage).results.opens === 2, undefined, { timeout: 10_000 })

  await goDownAndUp(2)
  const whileHidden = await page.evaluate(() => {
    const { document, client } = globalThis as unknown as WakePage
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' })
    document.dispatchEvent(new Event('visibilitychange'))
    return client.state
  })
  t.equal(whileHidden, 'reconnecting', 'a page turning hidden does not wake the client')
  const whenVisible = await page.evaluate(() => {
    const { document, client } = globalThis as unknown as WakePage
    delete (document as { visibilityState?: string }).visibilityState // back to Chromium's own: visible
    document.dispatchEvent(new Event('visibilitychange'))
    return [document.visibilityState, client.state]
  })
  t.same(whenVisible, ['visible', 'connecting'], 'visible again: the delay is cut short')
  await page.waitForFunction(() => (globalThis as unknown as WakePage).results.opens === 3, undefined, { timeout: 10_000 })

  await page.waitForFunction(() => (globalThis as unknown as WakePage).results.rejoined.length === 2, undefined, { timeout: 10_000 })
  const results = await page.evaluate(() => (globalThis as unknown as WakePage).results)
  t.same(results.rejoined, ['wake', 'wake'], 'the room is re-joined after each wake-up')
  t.same(results.reconnecting, [60_000, 60_000], 'no other attempt was made')
  t.same(pageErrors, [])
  t.same(browser.offHost, [])
})
