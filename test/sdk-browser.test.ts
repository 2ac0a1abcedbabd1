/**
 * The generated client in a real browser: bundled with esbuild into a page served by the test's
 * server, run in headless Chromium with the browser's own WebSocket.
 */
import { build } from 'esbuild'
import t from 'tap'
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

t.test('in headless Chromium the bundled client connects, joins, sends and receives', async (t) => {
  const bundle = await build({
    stdin: { contents: PAGE_SCRIPT, resolveDir: generated.outDir, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  })
  const app = await buildChatApp({ jwtSecret: SECRET })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<!doctype html><title>sdk</title><script type="module" src="/client.js"></script>'))
  app.get('/client.js', async (_request, reply) => reply.type('text/javascript').send(bundle.outputFiles[0]!.text))
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
