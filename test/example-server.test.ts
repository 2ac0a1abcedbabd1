import t from 'tap'
import { spawn, execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import WebSocket from 'ws'
import { TestClient } from './helpers/index.js'
import { tempDir } from './helpers/sdk.js'

const root = fileURLToPath(new URL('..', import.meta.url))

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The runner's environment without what would change the example's defaults. */
function withoutSecret (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { JWT_SECRET: _secret, DATABASE_URL: _database, CHAT_DB_FILE: _file, ...rest } = env
  return rest
}

function startServer (env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/server.ts'], {
    cwd: root,
    env: { ...withoutSecret(process.env), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
      if (output.includes('Server listening')) resolve()
    })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk })
    child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${output}`)))
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, listening, exited, output: () => output }
}

t.test('npm start serves /ws on HOST:PORT with tokens from npm run token, stores messages in its SQLite file, and SIGTERM closes every socket with 1001', async (t) => {
  const port = await freePort()
  const file = join(await tempDir(t, 'chat-db-'), 'chat.db')
  const server = startServer({ PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: 'example-test-secret', CHAT_DB_FILE: file })
  t.teardown(() => { server.child.kill('SIGKILL') })
  await server.listening
  t.match(server.output(), /"port":|listening at http:\/\/127\.0\.0\.1:\d+/)

  const { stdout: token } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/chat/token.ts', 'alice'], {
    cwd: root, env: { ...process.env, JWT_SECRET: 'example-test-secret' },
  })
  const client = new TestClient(new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token.trim()}`))
  t.equal((await client.waitFor('connected', 5000)).payload.userId, 'alice')
  t.equal((await client.request('join_room', { room: 'general' })).type, 'room_joined')
  const stats = await client.request('get_room_stats', { room: 'general' })
  t.same(stats.payload, { room: 'general', members: 1 }, 'the app-defined request works')
  t.equal((await client.request('message', { room: 'general', content: 'kept' })).type, 'ack')

  server.child.kill('SIGTERM')
  t.equal((await client.closed).code, 1001)
  t.equal(await server.exited, 0)
  t.match(server.output(), `messages stored in sqlite (${file})`)
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT room, seq, user_id AS userId, content FROM chat_messages').all(), [{ room: 'general', seq: 1, userId: 'alice', content: 'kept' }])
  t.notMatch(server.output(), /token=eyJ/, 'tokens are redacted from request logs')
})

t.test('without JWT_SECRET the example warns loudly that it uses the development secret', async (t) => {
  const port = await freePort()
  const server = startServer({ PORT: String(port), CHAT_DB_FILE: join(await tempDir(t, 'chat-db-'), 'chat.db') })
  t.teardown(() => { server.child.kill('SIGKILL') })
  await server.listening
  t.match(server.output(), /JWT_SECRET is not set/)
  server.child.kill('SIGINT')
  t.equal(await server.exited, 0)
})
