/**
 * @fastify/websocket next to fastify-ws-rooms (issue #11, item 9). The plugin registers
 * @fastify/websocket itself and the app's own `{ websocket: true }` routes use it; registering
 * @fastify/websocket again after the plugin is refused with a coded error through
 * `register`/`ready()` — it never crashes the process. (Registering it before the plugin is
 * refused with the same code: test/app-messages.test.ts.)
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import WebSocket from 'ws'
import wsPlugin from '../plugin.js'

const root = fileURLToPath(new URL('..', import.meta.url))

interface Outcome { ready?: true, error?: { code?: string, message: string } }

/** Run the after-order fixture in its own process: a crash there is an error here, not a lost runner. */
async function registerAfterInAnotherProcess (cases: unknown[]): Promise<Outcome[]> {
  const child = promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/websocket-after.ts'], {
    cwd: root, env: { ...process.env, WS_CASES: JSON.stringify(cases) },
  })
  const { stdout } = await child.catch((err: { code?: number, stderr?: string }) => {
    throw new Error(`the app process crashed (exit ${String(err.code)}): ${String(err.stderr).split('\n').slice(0, 8).join(' ')}`)
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome[]
}

async function open (app: FastifyInstance, path: string): Promise<{ first: Promise<string>, closed: Promise<number> }> {
  const port = (app.server.address() as { port: number }).port
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`)
  const first = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))))
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  return { first, closed }
}

t.test('@fastify/websocket registered after the plugin never crashes the process: a coded error names the fix, in every form', async (t) => {
  const cases = [
    { form: 'default' }, { form: 'named' }, { form: 'promise' }, { form: 'child' },
    { form: 'default', awaited: false }, { form: 'promise', awaited: false }, { form: 'child', awaited: false },
    { form: 'default', options: { options: { maxPayload: 1024 } } },
  ]
  const outcomes = await registerAfterInAnotherProcess(cases)
  t.equal(outcomes.length, cases.length, 'every app ran')
  for (const [i, outcome] of outcomes.entries()) {
    t.match(outcome, { error: { code: 'WS_ERR_WEBSOCKET_REGISTERED', message: /registered after fastify-ws-rooms.*Do not register @fastify\/websocket yourself.*your own \{ websocket: true \} routes use that one/ } }, JSON.stringify(cases[i]))
  }
})

t.test('not awaited, the coded error arrives through ready()', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(wsPlugin, { auth: false })
  app.register(fastifyWebsocket)
  await t.rejects(async () => { await app.ready() }, { code: 'WS_ERR_WEBSOCKET_REGISTERED' })
})

t.test('the app\'s own WebSocket route serves beside /ws on the plugin\'s @fastify/websocket, and app.close() closes both', async (t) => {
  const app = Fastify()
  await app.register(wsPlugin, { auth: false, shutdownTimeoutMs: 2000 })
  await app.register(async (child) => {
    child.get('/mine', { websocket: true }, (socket) => { socket.send('mine') })
  }, { prefix: '/app' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const rooms = await open(app, '/ws')
  const mine = await open(app, '/app/mine')
  t.match(JSON.parse(await rooms.first), { type: 'connected' }, 'the plugin\'s endpoint greets')
  t.equal(await mine.first, 'mine', 'the app\'s route answers')
  await app.close()
  t.equal(await rooms.closed, 1001)
  t.equal(await mine.closed, 1001)
})

t.test('other plugins, named ones included, still register normally after the plugin', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: false })
  const { default: fp } = await import('fastify-plugin')
  await app.register(fp(async (instance) => { instance.decorate('named', 1) }, { name: 'some-named-plugin' }))
  await app.register(async (child) => { await child.register(fp(async () => {}, { name: 'nested-named', dependencies: ['some-named-plugin'] })) })
  await app.ready()
  t.ok(app.hasPlugin('some-named-plugin'))
  t.ok(app.hasPlugin('@fastify/websocket'), 'the plugin\'s own @fastify/websocket is known to dependency checks')
})
