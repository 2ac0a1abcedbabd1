/**
 * The package as a user gets it: `npm pack` a clean copy of the repository (no dist/), install
 * the tarball into scratch apps that have only `fastify` and `typebox` (at the lowest and the
 * newest Fastify 5 of the peer range), then import it, require it, type-check a strict
 * TypeScript app against it and run a server under a prefix with a real WebSocket client.
 * Reuses the npm cache (the registry is the only network it needs).
 */
import t, { type Test } from 'tap'
import { execFile, spawn } from 'node:child_process'
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import WebSocket from 'ws'
import { createSigner } from 'fast-jwt'

const run = promisify(execFile)
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const FIXTURE = join(ROOT, 'test', 'fixtures', 'consumer')
const MANIFEST = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }
const SECRET = 'consumer-secret'
/** Packages the plugin may add to a fastify + typebox app (the docs renderer alone added ~245). */
const MAX_ADDED_PACKAGES = 40

/**
 * A child environment without this project's npm context (`npm test` sets its prefix and
 * package): the scratch apps are projects of their own. npm's user settings (cache, registry,
 * CA file) stay.
 */
function cleanEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  const projectKeys = /^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|npm_command$|INIT_CWD$|TAP)/
  for (const [key, value] of Object.entries(process.env)) {
    if (!projectKeys.test(key)) env[key] = value
  }
  return { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_loglevel: 'error' }
}

async function sh (cwd: string, file: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 })
    return stdout
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string, stderr?: string }
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`)
  }
}

const npm = async (cwd: string, ...args: string[]): Promise<string> => sh(cwd, 'npm', args)

/** Run a command expected to fail too: its exit code and output. */
async function exitOf (cwd: string, file: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: cleanEnv() })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const { code, stdout, stderr } = err as { code?: number, stdout?: string, stderr?: string }
    return { code: code ?? -1, stdout: stdout ?? '', stderr: stderr ?? '' }
  }
}

/** Packages installed in an app (entries of its lockfile, the root excluded). */
async function packageCount (app: string): Promise<number> {
  const lock = JSON.parse(await readFile(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> }
  return Object.keys(lock.packages).filter((path) => path !== '').length
}

// Cold npm caches download a few dozen packages: allow more than the suite's default.
t.setTimeout(300_000)
const started = Date.now()
const work = await mkdtemp(join(tmpdir(), 'fastify-ws-rooms-consumer-'))
t.teardown(() => rm(work, { recursive: true, force: true }))

let tarball = ''

t.test('npm pack on a clean clone ships the build, a LICENSE and a manifest without repository scripts', async (t) => {
  // A clean clone: the files git knows (tracked, or new and not ignored), no dist/.
  const clone = join(work, 'clone')
  const listed = (await sh(ROOT, 'git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])).split('\0').filter(Boolean)
  for (const file of listed) {
    const from = join(ROOT, file)
    if (!(await stat(from).catch(() => undefined))?.isFile()) continue
    await mkdir(dirname(join(clone, file)), { recursive: true })
    await copyFile(from, join(clone, file))
  }
  await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir')
  const [packed] = JSON.parse(await npm(clone, 'pack', '--json', '--pack-destination', work)) as Array<{ filename: string, files: Array<{ path: string }> }>
  tarball = join(work, packed!.filename)
  const files = packed!.files.map((file) => file.path)
  for (const needed of ['LICENSE', 'README.md', 'dist/plugin.js', 'dist/plugin.d.ts', 'dist/redis.js', 'dist/docs.js', 'dist/sdk-gen/cli.js', 'sdk-gen/bin.js']) {
    t.ok(files.includes(needed), `ships ${needed}`)
  }
  t.same(files.filter((file) => file.endsWith('.map')), [], 'no source maps (their sources are not shipped)')
  // lib/protocol/ ships as source on purpose: the SDK bin copies it into every generated client.
  t.same(files.filter((file) => (/^(test|examples|bench|scripts|lib)\//.test(file) && !file.startsWith('lib/protocol/')) || /^[^/]+\.ts$/.test(file)), [], 'no repository-only files')

  const unpacked = join(work, 'unpacked')
  await mkdir(unpacked)
  await sh(work, 'tar', ['xzf', tarball, '-C', unpacked, 'package/package.json'])
  const manifest = JSON.parse(await readFile(join(unpacked, 'package', 'package.json'), 'utf8')) as Record<string, unknown>
  t.equal(manifest.scripts, undefined, 'no repository scripts in the published package.json')
  t.equal(manifest.devDependencies, undefined)
  t.same(JSON.parse(await readFile(join(clone, 'package.json'), 'utf8')), JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')), 'the clone\'s package.json is restored after packing')
  const peers = manifest.peerDependencies as Record<string, string>
  t.notOk('typescript' in peers && /^\d/.test(peers.typescript!), 'typescript is never an exact peer')
  t.ok('fastify' in peers && !('fastify' in (manifest.dependencies as object)), 'fastify is a peer, not a dependency')
})

/** The lowest version a `^x.y.z` peer range allows. */
const lowest = (range: string): string => range.replace(/^\^/, '')

const variants = [
  { name: 'the lowest Fastify 5 and TypeBox 1 of the peer ranges', fastify: lowest(MANIFEST.peerDependencies.fastify!), typebox: lowest(MANIFEST.peerDependencies.typebox!) },
  { name: 'the newest Fastify 5 and TypeBox 1', fastify: MANIFEST.peerDependencies.fastify!, typebox: MANIFEST.peerDependencies.typebox! },
]

for (const variant of variants) {
  t.test(`installed into a fastify + typebox app on ${variant.name}`, async (t) => {
    t.ok(tarball, 'the package was packed')
    if (tarball === '') return
    const app = join(work, `app-${variants.indexOf(variant)}`)
    await mkdir(app)
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }, null, 2))
    await npm(app, 'install', '--prefer-offline', `fastify@${variant.fastify}`, `typebox@${variant.typebox}`)
    const before = await packageCount(app)
    await npm(app, 'install', '--prefer-offline', tarball)
    const added = await packageCount(app) - before
    const installed = async (name: string): Promise<string> => (JSON.parse(await readFile(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
    t.comment(`fastify ${await installed('fastify')}, typebox ${await installed('typebox')}: the app had ${before} packages; the plugin adds ${added}`)
    t.ok(added <= MAX_ADDED_PACKAGES, `the plugin adds ${added} packages (at most ${MAX_ADDED_PACKAGES})`)
    const nested = await readdir(join(app, 'node_modules', 'fastify-ws-rooms', 'node_modules')).catch((): string[] => [])
    t.notOk(nested.includes('fastify'), 'one copy of Fastify: the app\'s')
    // TypeScript and Node types are the app's own tooling; the newest TypeScript from the registry.
    await npm(app, 'install', '--prefer-offline', '--save-dev', 'typescript@latest', '@types/node@20')
    await cp(FIXTURE, app, { recursive: true })

    const imported = JSON.parse(await sh(app, process.execPath, ['import.mjs'])) as { plugin: string, keys: string[], redis: string }
    t.equal(imported.plugin, 'function', 'import works without ioredis')
    t.notOk(imported.keys.includes('RedisAdapter'), 'the Redis adapter is not on the main entry')
    t.match(imported.redis, /ioredis/, 'fastify-ws-rooms/redis names the missing optional peer')

    const required = JSON.parse(await sh(app, process.execPath, ['require.cjs'])) as Record<string, string>
    t.same(required, { plugin: 'function', named: 'function', defineProtocol: 'function', docs: 'function' }, 'require() works (require(esm))')

    // The compiler's own script, run with this Node: the test runner's loader (injected into every
    // child process) cannot load TypeScript 7's extensionless ESM bin on Node 20.
    const tsc = async (...args: string[]): Promise<string> => sh(app, process.execPath, [join(app, 'node_modules', 'typescript', 'lib', 'tsc.js'), ...args])
    t.comment(`TypeScript ${(await tsc('--version')).trim()}`)
    await t.resolves(tsc('-p', 'tsconfig.json'), 'a strict app type-checks with skipLibCheck: false, the wrong payload caught')

    await runServer(t, app)
    // The bin does not depend on the Fastify version: checked once.
    if (variants.indexOf(variant) === variants.length - 1) await runSdkBin(t, app)
  })
}

/** The installed `fastify-ws-rooms-sdk` in an app without its optional peers (full generation: test/sdk-*.test.ts). */
async function runSdkBin (t: Test, app: string): Promise<void> {
  const began = Date.now()
  const sdk = async (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> => exitOf(app, 'npx', ['--yes=false', 'fastify-ws-rooms-sdk', ...args])
  const help = await sdk('--help')
  t.equal(help.code, 0, `--help works without the generator's peers ${help.stderr}`)
  t.match(help.stdout, /^Usage: fastify-ws-rooms-sdk /, '--help names the bin')
  t.match(help.stdout, /@asyncapi\/generator and @asyncapi\/parser/, 'and the peers each kind of document needs')

  const asyncapi = await sdk('--input', join(ROOT, 'test', 'fixtures', 'asyncapi-chat.yaml'), '--out', 'sdk-a')
  t.equal(asyncapi.code, 1, 'an AsyncAPI run without the AsyncAPI peers fails')
  t.match(asyncapi.stderr, /SDK_ERR_MISSING_DEPENDENCY: .*npm install --save-dev @asyncapi\/generator @asyncapi\/parser/, 'naming what to install')
  t.notMatch(asyncapi.stderr, /^\s+at /m, 'without a stack trace')

  const openapi = await sdk('--openapi', join(ROOT, 'test', 'fixtures', 'openapi-rooms.yaml'), '--out', 'sdk-o')
  t.equal(openapi.code, 1, 'an OpenAPI run without its tools fails')
  t.notMatch(openapi.stderr, /@asyncapi/, 'but never asks for the AsyncAPI tools')
  t.match(openapi.stderr, /✖ SDK_ERR_[A-Z_]+: .*npm install --save-dev /, 'it names what it does need')
  t.notMatch(openapi.stderr, /^\s+at /m, 'without a stack trace')
  t.comment(`the installed bin, three runs: ${((Date.now() - began) / 1000).toFixed(1)} s`)
}

async function runServer (t: Test, app: string): Promise<void> {
  const server = spawn(process.execPath, ['server.mjs'], { cwd: app, env: { ...cleanEnv(), SECRET }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  t.teardown(async () => { server.kill('SIGKILL'); await exited })
  const first = await new Promise<string>((resolve, reject) => {
    let text = ''
    server.stdout.on('data', (chunk: Buffer) => { text += String(chunk); if (text.includes('\n')) resolve(text.split('\n')[0]!) })
    server.once('exit', (code) => reject(new Error(`the server exited with ${String(code)}: ${text}`)))
  })
  const { port, docsError, websocketError } = JSON.parse(first) as { port: number, docsError?: { code: string, message: string }, websocketError?: { code: string } }
  t.equal(docsError?.code, 'WS_ERR_DOCS_RENDERER_MISSING', 'the docs page without its renderer is a coded error')
  t.match(docsError?.message, /npm install @asyncapi\/react-component/, 'naming what to install')
  t.equal(websocketError?.code, 'WS_ERR_WEBSOCKET_REGISTERED', '@fastify/websocket registered after the plugin is a coded error, not a crash')

  // The served document declares the request's server; its pathname is the prefixed WebSocket route.
  const document = await (await fetch(`http://127.0.0.1:${port}/rt/asyncapi.json`)).json() as { servers: Record<string, { pathname: string }> }
  t.same(Object.values(document.servers).map((server) => server.pathname), ['/rt/ws'], 'the document\'s WebSocket path follows the prefix')

  const token = createSigner({ key: SECRET, algorithm: 'HS256' })({ sub: 'consumer' })
  const socket = new WebSocket(`ws://127.0.0.1:${port}/rt/ws?token=${token}`)
  const frames: Array<{ type: string, payload?: Record<string, unknown> }> = []
  const noted = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string, payload?: Record<string, unknown> }
      frames.push(frame)
      if (frame.type === 'connected') socket.send(JSON.stringify({ type: 'join_room', id: 'j1', payload: { room: 'general' } }))
      if (frame.type === 'room_joined') socket.send(JSON.stringify({ type: 'say', id: 's1', payload: { room: 'general', text: 'hi' } }))
      if (frame.type === 'note') resolve()
    })
    socket.once('close', (code) => reject(new Error(`closed with ${code}`)))
    socket.once('error', reject)
  })
  await noted
  t.same(frames.map((frame) => frame.type).filter((type) => type !== 'ack'), ['connected', 'room_joined', 'note'], 'connected, joined a room and got a message back')
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  server.kill('SIGTERM')
  t.equal(await closed, 1001, 'the server\'s app.close() closes the connection as going away')
}

t.teardown(() => { t.comment(`consumer test: ${((Date.now() - started) / 1000).toFixed(1)} s`) })
