/**
 * `npm run sdk`: generation from a document with app-defined messages, the generated package's
 * shape and types (checked with tsc, including `@ts-expect-error` lines), and the clear errors.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { main } from '../sdk-gen/cli.js'
import { generateSdk } from '../sdk-gen/generate.js'
import { SdkGenError } from '../sdk-gen/errors.js'
import { GAME_DOCUMENT, tempDir } from './helpers/sdk.js'

const work = await tempDir(t)
const out = join(work, 'game-client')
const printed: string[] = []
const exitCode = await main(['--input', GAME_DOCUMENT, '--out', out, '--name', '@test/game-client'], {
  out: (line) => printed.push(line),
  err: (line) => printed.push(line),
})
const read = (path: string): Promise<string> => readFile(join(out, path), 'utf8')

t.test('the command reports what it generated, where, and how long it took', async (t) => {
  t.equal(exitCode, 0, printed.join('\n'))
  t.match(printed[0], /^✔ Generated @test\/game-client from .*asyncapi-game\.yaml \("Game" 1\.0\.0\)/)
  t.match(printed[1], new RegExp(`into ${out} — \\d+ files, in \\d+\\.\\d s \\(parse`))
  t.match(printed[2], /sendMakeMove, sendResign, sendRequestRematch/)
  t.match(printed[3], /onBoardUpdate, onGameOver, onMoveAccepted/)
})

t.test('the generated package is ESM JavaScript with .d.ts and has no runtime dependencies', async (t) => {
  const pkg = JSON.parse(await read('package.json'))
  t.equal(pkg.name, '@test/game-client')
  t.equal(pkg.type, 'module')
  t.same(pkg.dependencies, {})
  t.same(pkg.exports['.'], { types: './dist/index.d.ts', import: './dist/index.js' })
  const dist = await readdir(join(out, 'dist'))
  for (const file of ['index.js', 'index.d.ts', 'client.js', 'client.d.ts', 'protocol.js', 'protocol.d.ts']) t.ok(dist.includes(file), file)
  t.ok((await readdir(join(out, 'dist/runtime'))).includes('core.mjs'))
  const tsconfig = JSON.parse(await read('tsconfig.json'))
  t.equal(tsconfig.compilerOptions.strict, true, 'built under strict')
  t.same(tsconfig.compilerOptions.types, [], 'with neither DOM nor Node typings')
  const js = await read('dist/client.js')
  t.notMatch(js, /\bimport\b.*from '(?!\.)/, 'imports nothing outside the package')
})

t.test('payload types are printed from the JSON schemas: unions, enums, arrays, optional fields, index signatures, shared schemas', async (t) => {
  const protocol = await read('src/protocol.ts')
  t.match(protocol, 'export type Position = {')
  t.match(protocol, 'cells: Array<Array<"x" | "o" | null>>')
  t.match(protocol, 'turn: "x" | "o"')
  t.match(protocol, 'last?: Position')
  t.match(protocol, '[key: string]: number')
  t.match(protocol, 'reason: "win" | "draw" | "abandoned"')
  t.match(protocol, '/** Why (shown to the opponent). */\n  reason?: "bored" | "outplayed" | "needs \\"rest\\""')
  t.match(protocol, 'export type ClientRequestRematchPayload = {\n  note?: string\n}')
  t.match(protocol, 'make_move: { payload: ClientMakeMovePayload, reply: ServerMoveAcceptedPayload }')
  t.match(protocol, 'resign: { payload: ClientResignPayload, reply: void }')
  t.match(protocol, '4001: { name: "unauthorized", reconnect: false')
  t.match(protocol, '1001: { name: "going_away", reconnect: true')
})

t.test('every method carries TSDoc and the README lists every method with its payload type', async (t) => {
  const client = await read('src/client.ts')
  const readme = await read('README.md')
  const methods = [...client.matchAll(/^ {2}((?:send|on)[A-Z]\w*) \(/gm)].map((m) => m[1]!)
  t.equal(methods.length, 9 + 14)
  for (const method of methods) {
    t.match(client, new RegExp(`\\*/\\n  ${method} \\(`), `${method} has a doc comment`)
    t.match(readme, `\`${method}(`, `README lists ${method}`)
  }
  t.match(readme, '`sendMakeMove(payload: ClientMakeMovePayload)` | `make_move` | `Promise<ServerMoveAcceptedPayload>`')
  t.match(readme, '`sendRequestRematch(payload?: ClientRequestRematchPayload)`')
  t.match(client, 'Place your mark.')
})

const TYPE_TEST = `
import { createClient, type WebSocketConstructor, type ServerMoveAcceptedPayload } from './dist/index.js'
declare const WS: WebSocketConstructor
const client = createClient({ url: 'ws://127.0.0.1:1/ws', WebSocket: WS })

export const accepted: Promise<ServerMoveAcceptedPayload> = client.sendMakeMove({ room: 'g1', at: { x: 1, y: 2 } })
export const resigned: Promise<void> = client.sendResign({ room: 'g1' })
client.sendRequestRematch()
client.onBoardUpdate((board, meta) => {
  const cells: Array<Array<'x' | 'o' | null>> = board.cells
  const room: string | undefined = meta.room
  return [cells, room]
})
// @ts-expect-error a number where the schema says string
client.sendMakeMove({ room: 'g1', at: { x: '1', y: 2 } })
// @ts-expect-error a required field missing
client.sendMakeMove({ room: 'g1' })
// @ts-expect-error a property the closed schema does not have
client.sendMakeMove({ room: 'g1', at: { x: 1, y: 2 }, extra: true })
// @ts-expect-error a method for a message the document does not have
client.sendNope({})
// @ts-expect-error a handler for a message the document does not have
client.onNope(() => {})
// @ts-expect-error handler payloads are typed
client.onGameOver((over) => { const reason: number = over.reason; return reason })
// @ts-expect-error replies are typed
export const wrongReply: Promise<string> = client.sendMakeMove({ room: 'g1', at: { x: 1, y: 2 } })
// @ts-expect-error enum values are literal types
client.onBoardUpdate((board) => { const turn: 'z' = board.turn; return turn })
// @ts-expect-error a message without a declared reply resolves to void
export const ackValue: Promise<number> = client.sendResign({ room: 'g1' })
// @ts-expect-error built-in messages are typed too
client.sendJoinRoom({ room: 1 })
`

function typeCheck (file: string): ts.Diagnostic[] {
  const program = ts.createProgram([file], {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  })
  return [...ts.getPreEmitDiagnostics(program)]
}

t.test('wrong payloads, wrong handler types and unknown methods fail to compile (checked with tsc)', async (t) => {
  const file = join(out, 'type-test.ts')
  await writeFile(file, TYPE_TEST)
  const diagnostics = typeCheck(file)
  t.same(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'valid lines compile and every @ts-expect-error line is an error')

  // The same file without the directives: each marked line must fail on its own.
  const lines = TYPE_TEST.split('\n')
  const marked = lines.flatMap((line, i) => line.startsWith('// @ts-expect-error') ? [i + 1] : [])
  await writeFile(file, lines.map((line) => line.replace('// @ts-expect-error', '// (expect error)')).join('\n'))
  const failing = new Set(typeCheck(file).map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line))
  t.equal(marked.length, 10)
  for (const line of marked) t.ok(failing.has(line), `line ${line + 1} fails without the directive: ${lines[line]}`)
})

async function documentWith (t: { teardown(fn: () => unknown): void }, name: string, edit: (text: string) => string): Promise<string> {
  const dir = await tempDir(t)
  const path = join(dir, name)
  await writeFile(path, edit(await readFile(GAME_DOCUMENT, 'utf8')))
  return path
}

async function failure (promise: Promise<unknown>): Promise<SdkGenError> {
  const error = await promise.then(() => undefined, (err: unknown) => err)
  if (!(error instanceof SdkGenError)) throw new Error(`expected an SdkGenError, got ${String(error)}`)
  return error
}

t.test('a document that does not parse fails with the parser diagnostics', async (t) => {
  const input = await documentWith(t, 'broken.yaml', (text) => text.replace(/^channels:\n/m, 'channels: 5\nunused:\n'))
  const error = await failure(generateSdk({ input, out: join(await tempDir(t), 'x'), build: false }))
  t.equal(error.code, 'SDK_ERR_PARSE')
  t.ok(error.diagnostics.length > 0)
  t.match(error.message, /broken\.yaml is not a valid AsyncAPI document/)
  t.match(error.diagnostics.join('\n'), /error .*broken\.yaml:\d+:\d+ \/channels/)
})

t.test('a message name that cannot become a method name fails, naming the message', async (t) => {
  const input = await documentWith(t, 'bad-name.yaml', (text) => text.replace('name: make_move', 'name: Make-Move'))
  const error = await failure(generateSdk({ input, out: join(await tempDir(t), 'x'), build: false }))
  t.equal(error.code, 'SDK_ERR_MESSAGE_NAME')
  t.match(error.message, 'Message "client.make_move" has name "Make-Move", which cannot become a method name')
})

t.test('an output folder that is not writable fails before anything is generated', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'a-file'), '')
  const error = await failure(generateSdk({ input: GAME_DOCUMENT, out: join(dir, 'a-file', 'client'), build: false }))
  t.equal(error.code, 'SDK_ERR_OUTPUT')
  t.match(error.message, /is not (writable|readable|a folder)|is a file/)
})

t.test('a non-empty folder the command did not generate is never deleted', async (t) => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'mine'))
  await writeFile(join(dir, 'mine', 'notes.txt'), 'keep me')
  const error = await failure(generateSdk({ input: GAME_DOCUMENT, out: join(dir, 'mine'), build: false }))
  t.equal(error.code, 'SDK_ERR_OUTPUT')
  t.equal(await readFile(join(dir, 'mine', 'notes.txt'), 'utf8'), 'keep me')
})

t.test('regenerating replaces a generated folder: stale files are removed', async (t) => {
  await writeFile(join(out, 'src', 'stale.ts'), 'export {}')
  await generateSdk({ input: GAME_DOCUMENT, out, name: '@test/game-client', build: false })
  t.notOk((await readdir(join(out, 'src'))).includes('stale.ts'))
  t.ok((await readdir(join(out, 'src'))).includes('client.ts'))
})

t.test('usage errors exit with 2 and print the usage; a missing input exits with 1 and says why', async (t) => {
  const lines: string[] = []
  const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) }
  t.equal(await main(['--bogus'], io), 2)
  t.match(lines.join('\n'), /Usage: fastify-ws-rooms-sdk/)
  lines.length = 0
  t.equal(await main(['--input', join(work, 'missing.yaml'), '--out', join(work, 'y')], io), 1)
  t.match(lines.join('\n'), /SDK_ERR_INPUT: Cannot read the AsyncAPI document .*missing\.yaml: ENOENT/)
})

t.test('a document title cannot inject code into the generated package', async (t) => {
  const source = await readFile(GAME_DOCUMENT, 'utf8')
  const hostile = source.replace(/^(\s*)title: .*$/m, '$1title: "Game\\nexport const injected = 1 //"')
  t.not(hostile, source, 'the fixture title was replaced')
  const dir = await tempDir(t)
  const input = join(dir, 'hostile.yaml')
  await writeFile(input, hostile)
  await generateSdk({ input, out: join(dir, 'out'), name: '@test/hostile' })
  for (const file of ['src/client.ts', 'src/protocol.ts']) {
    const code = await readFile(join(dir, 'out', file), 'utf8')
    t.notMatch(code, /^export const injected/m, `${file}: the title stays inside its comment`)
  }
})
