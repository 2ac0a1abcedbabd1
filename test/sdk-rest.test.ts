/**
 * `npm run sdk` with an OpenAPI document: the REST half generated from a fixture (path, query and
 * body parameters, several response codes, an operation without operationId) next to the real-time
 * half, its types checked by a strict TypeScript consumer, the browser bundle size, and the errors.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { build } from 'esbuild'
import { stringify } from 'yaml'
import { main } from '../sdk-gen/cli.js'
import { generateSdk } from '../sdk-gen/generate.js'
import { SdkGenError } from '../sdk-gen/errors.js'
import { discover } from '../sdk-gen/inputs.js'
import Fastify from 'fastify'
import wsPlugin from '../plugin.js'
import { CHAT_DOCUMENT, tempDir } from './helpers/sdk.js'

const ROOT = new URL('../', import.meta.url).pathname
const OPENAPI = join(ROOT, 'test/fixtures/openapi-rooms.yaml')

const work = await tempDir(t)
const out = join(work, 'app-client')
const printed: string[] = []
const exitCode = await main(['--openapi', OPENAPI, '--asyncapi', CHAT_DOCUMENT, '--out', out, '--name', '@test/app-client'], {
  out: (line) => printed.push(line),
  err: (line) => printed.push(line),
})
const read = (path: string): Promise<string> => readFile(join(out, path), 'utf8')

t.test('the command reports both halves, the REST methods (one named from method and path) and the time', async (t) => {
  t.equal(exitCode, 0, printed.join('\n'))
  t.match(printed[0], /^✔ Generated @test\/app-client from .*asyncapi[^ ]*\.yaml \+ .*openapi-rooms\.yaml/)
  t.match(printed[1], /\d+ files, in \d+\.\d s/)
  t.match(printed.join('\n'), 'REST (3): putRoomsByRoomTopic, roomHistory, signIn')
})

t.test('one package, still without runtime dependencies, importing nothing outside itself', async (t) => {
  const pkg = JSON.parse(await read('package.json'))
  t.same(pkg.dependencies, {})
  for (const file of ['dist/app.js', 'dist/rest/sdk.gen.js', 'dist/rest/client/client.gen.js', 'dist/app-runtime/rest.js']) {
    t.notMatch(await read(file), /\bfrom '(?!\.)/, `${file} imports only relative paths`)
  }
})

t.test('path, query and body parameters and every documented response are typed from the schemas', async (t) => {
  const types = await read('src/rest/types.gen.ts')
  t.match(types, /export type RoomHistoryData = \{[\s\S]*path: \{\s*room: string;[\s\S]*query\?: \{\s*before\?: number;\s*limit\?: number;/)
  t.match(types, /export type SignInData = \{\s*body: \{\s*user: string;/)
  t.match(types, /export type RoomHistoryErrors = \{[\s\S]*401: Problem;[\s\S]*404: \{\s*room: string;\s*reason: 'unknown_room';/)
  const app = await read('src/app.ts')
  t.match(app, 'roomHistory (...args: ArgsOf<RoomHistoryData>): Promise<RoomHistoryResponse>')
  t.match(app, '`GET /rooms/{room}/history`, sent with the token')
  t.match(app, '`POST /sign-in`.')
})

const TYPE_TEST = `
import WebSocket from './ws-stub.js'
import { createClient, HttpError, type AppClient, type RealtimeClient, type RoomHistoryHttpError, type RoomHistoryResponse, type SignInResponse } from './dist/index.js'

const client: AppClient = createClient({ baseUrl: 'http://127.0.0.1:3000', token: async () => 'jwt', WebSocket })
const realtimeOnly: RealtimeClient = createClient({ url: 'ws://127.0.0.1:3000/ws', WebSocket })
export const signedIn: Promise<SignInResponse> = client.signIn({ body: { user: 'alice' } })
export const page: Promise<RoomHistoryResponse> = client.roomHistory({ path: { room: 'general' }, query: { before: 10, limit: 50 }, signal: new AbortController().signal })
export const topic: Promise<void> = client.putRoomsByRoomTopic({ path: { room: 'general' }, body: { topic: 'hi' } })
export const joined = client.sendJoinRoom({ room: 'general' })
export const first = page.then((p) => { const seq: number | undefined = p.messages[0]?.seq; return seq })
export function explain (error: unknown): string {
  if (!(error instanceof HttpError)) return 'other'
  const failed = error as RoomHistoryHttpError
  if (failed.status === 404) { const reason: 'unknown_room' = failed.body.reason; return reason }
  // @ts-expect-error a status the operation does not document
  if (failed.status === 418) return 'teapot'
  return failed.body.message
}
// @ts-expect-error a path parameter missing
client.roomHistory({ query: { limit: 5 } })
// @ts-expect-error a query parameter of the wrong type
client.roomHistory({ path: { room: 'general' }, query: { limit: '5' } })
// @ts-expect-error a query parameter the operation does not have
client.roomHistory({ path: { room: 'general' }, query: { after: 5 } })
// @ts-expect-error a body missing a required field
client.signIn({ body: {} })
// @ts-expect-error a body field of the wrong type
client.putRoomsByRoomTopic({ path: { room: 'general' }, body: { topic: 5 } })
// @ts-expect-error a body where the operation takes none
client.roomHistory({ path: { room: 'general' }, body: { x: 1 } })
// @ts-expect-error responses are typed
export const wrongReply: Promise<string> = client.signIn({ body: { user: 'alice' } })
// @ts-expect-error an operation the document does not have
client.deleteRoom({ path: { room: 'general' } })
// @ts-expect-error a real-time payload of the wrong type
client.sendMessage({ room: 'general', content: 5 })
// @ts-expect-error a real-time handler reading a field its payload does not have
client.onMessage((message) => message.nope)
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
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
  })
  return [...ts.getPreEmitDiagnostics(program)]
}

t.test('a strict TypeScript consumer: valid calls compile, wrong REST params, bodies and real-time payloads do not', async (t) => {
  await writeFile(join(out, 'ws-stub.ts'), "import type { WebSocketConstructor } from './dist/index.js'\ndeclare const WS: WebSocketConstructor\nexport default WS\n")
  const file = join(out, 'type-test.ts')
  await writeFile(file, TYPE_TEST)
  t.same(typeCheck(file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'valid lines compile and every @ts-expect-error line is an error')
  const lines = TYPE_TEST.split('\n')
  const marked = lines.flatMap((line, i) => line.trimStart().startsWith('// @ts-expect-error') ? [i + 1] : [])
  await writeFile(file, lines.map((line) => line.replace('// @ts-expect-error', '// (expect error)')).join('\n'))
  const failing = new Set(typeCheck(file).map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line))
  t.equal(marked.length, 11)
  for (const line of marked) t.ok(failing.has(line), `line ${line + 1} fails without the directive: ${lines[line]!.trim()}`)
})

t.test('the browser bundle of the whole package (REST + real time), minified', async (t) => {
  const result = await build({ entryPoints: [join(out, 'dist/index.js')], bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' })
  const bytes = result.outputFiles[0]!.contents.byteLength
  const { gzipSync } = await import('node:zlib')
  const gzipped = gzipSync(result.outputFiles[0]!.contents).byteLength
  t.comment(`browser bundle: ${(bytes / 1024).toFixed(1)} KiB minified, ${(gzipped / 1024).toFixed(1)} KiB gzipped`)
  t.ok(bytes > 0 && bytes < 200 * 1024, `${bytes} bytes`)
})

async function failure (promise: Promise<unknown>): Promise<SdkGenError> {
  const error = await promise.then(() => undefined, (err: unknown) => err)
  if (!(error instanceof SdkGenError)) throw new Error(`expected an SdkGenError, got ${String(error)}`)
  return error
}

async function openapiWith (t: { teardown(fn: () => unknown): void }, edit: (doc: any) => void): Promise<string> {
  const { parse } = await import('yaml')
  const doc = parse(await readFile(OPENAPI, 'utf8'))
  edit(doc)
  const path = join(await tempDir(t), 'openapi.yaml')
  await writeFile(path, stringify(doc))
  return path
}

t.test('a document that is neither OpenAPI nor AsyncAPI fails with SDK_ERR_NOT_AN_API_DOCUMENT', async (t) => {
  const path = join(await tempDir(t), 'package.json')
  await writeFile(path, JSON.stringify({ name: 'not-an-api' }))
  const error = await failure(generateSdk({ input: path, out: join(await tempDir(t), 'x'), build: false }))
  t.equal(error.code, 'SDK_ERR_NOT_AN_API_DOCUMENT')
  t.match(error.message, 'is neither an OpenAPI document')
  const swapped = await failure(generateSdk({ openapi: CHAT_DOCUMENT, out: join(await tempDir(t), 'x'), build: false }))
  t.match(swapped.message, 'is an AsyncAPI document, given as the OpenAPI one')
})

t.test('an operationId that cannot become a method name fails, naming the operation', async (t) => {
  const openapi = await openapiWith(t, (doc) => { doc.paths['/sign-in'].post.operationId = 'sign-in' })
  const error = await failure(generateSdk({ openapi, out: join(await tempDir(t), 'x'), build: false }))
  t.equal(error.code, 'SDK_ERR_OPERATION_NAME')
  t.match(error.message, 'operation POST /sign-in has operationId "sign-in", which cannot become a method name')
})

t.test('a REST operation named like a real-time method fails with SDK_ERR_NAME_CLASH', async (t) => {
  const openapi = await openapiWith(t, (doc) => { doc.paths['/sign-in'].post.operationId = 'sendJoinRoom' })
  const error = await failure(generateSdk({ openapi, asyncapi: CHAT_DOCUMENT, out: join(await tempDir(t), 'x'), build: false }))
  t.equal(error.code, 'SDK_ERR_NAME_CLASH')
  t.match(error.message, 'REST operation POST /sign-in becomes the method sendJoinRoom(), which is already a real-time method')
  const type = await openapiWith(t, (doc) => {
    doc.components.schemas.ClientJoinRoomPayload = { type: 'string' }
    doc.components.schemas.Session = { type: 'string' }
  })
  const typeClash = await failure(generateSdk({ openapi: type, asyncapi: CHAT_DOCUMENT, out: join(await tempDir(t), 'z'), build: false }))
  t.equal(typeClash.code, 'SDK_ERR_NAME_CLASH')
  t.match(typeClash.message, /both define the types .*ClientJoinRoomPayload/, 'a payload type')
  t.match(typeClash.message, /both define the types .*Session/, 'a type of the real-time runtime')
  const member = await openapiWith(t, (doc) => { doc.paths['/sign-in'].post.operationId = 'connect' })
  t.equal((await failure(generateSdk({ openapi: member, out: join(await tempDir(t), 'y'), build: false }))).code, 'SDK_ERR_NAME_CLASH', 'or a member of the client')
})

t.test('an OpenAPI document alone gives a REST-only package', async (t) => {
  const dir = await tempDir(t)
  const result = await generateSdk({ openapi: OPENAPI, out: join(dir, 'rest-only'), name: '@test/rest-only' })
  t.same(result.sendMethods, [])
  t.same(result.restMethods, ['putRoomsByRoomTopic', 'roomHistory', 'signIn'])
  const index = await readFile(join(dir, 'rest-only', 'dist/index.d.ts'), 'utf8')
  t.match(index, "export { AppClient, createClient, HttpError, NetworkError } from './app.js'")
  t.notMatch(index, 'RealtimeClient')
})

t.test('--url on an app without an OpenAPI route finds the AsyncAPI document alone; on an app with neither, it says what it tried', async (t) => {
  const withPlugin = Fastify({ logger: false })
  await withPlugin.register(wsPlugin, { auth: false })
  await withPlugin.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => withPlugin.close())
  const base = `http://127.0.0.1:${(withPlugin.server.address() as { port: number }).port}`
  const found = await discover(base, { openapi: true, asyncapi: true })
  t.equal(found.asyncapi?.kind, 'asyncapi')
  t.equal(found.openapi, undefined)
  t.same(found.tried, ['/asyncapi.json', '/documentation/json', '/openapi.json', '/swagger.json', '/docs/json'].map((path) => base + path))

  const bare = Fastify({ logger: false })
  await bare.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => bare.close())
  const bareBase = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`
  const error = await failure(generateSdk({ url: bareBase, out: join(await tempDir(t), 'x'), build: false }))
  t.equal(error.code, 'SDK_ERR_INPUT')
  t.match(error.message, `No OpenAPI or AsyncAPI document found on ${bareBase} (tried ${bareBase}/asyncapi.json, ${bareBase}/documentation/json`)
})
