/**
 * What an app declares beyond its messages: its own error codes, built-ins switched off, and its
 * own authentication (a session cookie) with per-connection data. Checked on the wire, in the
 * AsyncAPI document and in the generated client (including its types, with tsc).
 */
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import WebSocket from 'ws'
import ts from 'typescript'
import { Type } from 'typebox'
import { CloseCode, defineProtocol, WsError, wsOf, type WsErrorCode } from '../plugin.js'
import { buildApp, connect, joined, TestClient, type TestApp } from './helpers/index.js'
import { generateInto, loadPackage, tempDir } from './helpers/sdk.js'

/** This file registers no protocol (the chat example does, for the whole project): codes are cast here; see the type test below. */
const appError = (code: string, message: string): WsError => new WsError(code as WsErrorCode, message)

const protocol = defineProtocol({ builtins: { message: false } })
  .error('banned', 'The user is banned from this room.')
  .error('room_full', 'The room has no seat left.')
  .server('seat', { payload: Type.Object({ room: Type.String(), plan: Type.String() }) })
  .client('take_seat', {
    payload: Type.Object({ room: Type.String() }),
    reply: 'seat',
    handler: (ctx, { room }) => {
      if (room === 'vip') throw appError('banned', 'Not on the list')
      if (room === 'typo') throw appError('no_such_code', 'A code nobody declared')
      return { room, plan: String((ctx.data as { plan?: string }).plan) }
    },
  })

t.test('an app error code reaches the client; an undeclared one is answered internal_error', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  t.same((await alice.request('take_seat', { room: 'vip' })).payload, { code: 'banned', message: 'Not on the list' })
  t.same((await alice.request('take_seat', { room: 'typo' })).payload, { code: 'internal_error', message: 'Internal error' })
})

t.test('app error codes join the document\'s code table and its ErrorCode enum', async (t) => {
  const server = await buildApp(t, { protocol })
  const document = server.app.asyncapi()
  t.same(document['x-error-codes'].banned, { description: 'The user is banned from this room.' })
  t.same(document['x-error-codes'].room_full, { description: 'The room has no seat left.' })
  t.ok('not_in_room' in document['x-error-codes'], 'built-in codes stay')
  const enumeration = (document.components.schemas.ErrorCode as { enum: string[] }).enum
  t.ok(enumeration.includes('banned') && enumeration.includes('room_full') && enumeration.includes('forbidden'))
  t.match(document.info.description, '| `room_full` | The room has no seat left. |')
})

t.test('an error code must be snake_case, new and described', async (t) => {
  t.throws(() => defineProtocol().error('Banned', 'x'), { code: 'WS_ERR_INVALID_ERROR_CODE' })
  t.throws(() => defineProtocol().error('forbidden', 'x'), { code: 'WS_ERR_DUPLICATE_ERROR_CODE' })
  t.throws(() => defineProtocol().error('banned', 'x').error('banned', 'y'), { code: 'WS_ERR_DUPLICATE_ERROR_CODE' })
  t.throws(() => defineProtocol().error('banned', ' '), { code: 'WS_ERR_INVALID_ERROR_CODE' })
})

t.test('a switched-off built-in is gone from the wire and the document; the others stay', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  t.equal((await alice.request('message', { room: 'general', content: 'hi' })).payload.code, 'unknown_type')
  t.equal((await alice.request('typing', { room: 'general' })).type, 'ack', '`typing` was kept')
  const messages = Object.keys(server.app.asyncapi().channels.ws!.messages as object)
  t.notOk(messages.includes('client.message') || messages.includes('server.message'), 'message is gone both ways')
  t.ok(messages.includes('client.typing') && messages.includes('server.typing'))
  const both = await buildApp(t, { protocol: defineProtocol({ builtins: { message: false, typing: false } }) })
  const left = Object.keys(both.app.asyncapi().channels.ws!.messages as object)
  t.notOk(left.some((key) => key.endsWith('.typing') || key.endsWith('.message')))
})

t.test('auth.authenticate admits a cookie session; its data is ctx.data in handlers and hooks', async (t) => {
  const sessions = new Map([['s3cret', { id: 'carol', plan: 'pro' }]])
  const seenInHook: unknown[] = []
  const server = await buildApp(t, {
    protocol,
    auth: {
      authenticate: (request) => {
        const sid = /(?:^|;\s*)sid=([^;]+)/.exec(request.headers.cookie ?? '')?.[1]
        if (sid === 'boom') throw new Error('session store down')
        const session = sid === undefined ? undefined : sessions.get(sid)
        return session === undefined ? undefined : { id: session.id, data: { plan: session.plan } }
      },
    },
  }, undefined, (app) => {
    wsOf(app, protocol).addHook('onConnect', (ctx) => { seenInHook.push(ctx.data) })
  })
  const carol = await open(server, { cookie: 'theme=dark; sid=s3cret' })
  const hello = await carol.waitFor('connected')
  t.equal(hello.payload.userId, 'carol')
  t.same(seenInHook, [{ plan: 'pro' }], 'onConnect sees the data')
  t.same((await carol.request('take_seat', { room: 'a' })).payload, { room: 'a', plan: 'pro' }, 'handlers see it too')
  t.same(await (await open(server, {})).closed, { code: CloseCode.Unauthorized, reason: 'Unauthorized' })
  t.same(await (await open(server, { cookie: 'sid=boom' })).closed, { code: CloseCode.Unauthorized, reason: 'Authentication failed' })
})

async function open (server: TestApp, headers: Record<string, string>): Promise<TestClient> {
  const socket = new WebSocket(server.url, { headers })
  const client = new TestClient(socket)
  t.teardown(() => client.close())
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  return client
}

const TYPE_TEST = `
import { createClient, errorCodes, ServerError, type ErrorCode, type ServerErrorPayload, type WebSocketConstructor } from './dist/index.js'
declare const WS: WebSocketConstructor
const client = createClient({ url: 'ws://127.0.0.1:1/ws', WebSocket: WS })
export const banned: ErrorCode = 'banned'
export const full: ErrorCode = 'room_full'
export const meaning: string = errorCodes.room_full
export function isBanned (error: ServerErrorPayload): boolean { return error.code === 'banned' }
export const typed = new ServerError<ErrorCode>('banned', 'no', 'take_seat')
client.sendTyping({ room: 'a' })
// @ts-expect-error a code the protocol does not declare
export const nope: ErrorCode = 'no_such_code'
// @ts-expect-error a switched-off built-in has no method
client.sendMessage({ room: 'a', content: 'hi' })
`

t.test('the generated client knows the app\'s error codes and lacks the switched-off built-in (checked with tsc)', async (t) => {
  const server = await buildApp(t, { protocol })
  const input = join(await tempDir(t), 'asyncapi.yaml')
  await writeFile(input, server.app.asyncapi({ yaml: true }))
  const generated = await generateInto(t, input)
  const sdk = await loadPackage(generated.outDir)
  t.equal(sdk.errorCodes.banned, 'The user is banned from this room.')
  t.equal(typeof sdk.RealtimeClient.prototype.sendMessage, 'undefined')
  t.equal(typeof sdk.RealtimeClient.prototype.sendTakeSeat, 'function')

  const file = join(generated.outDir, 'type-test.ts')
  const check = async (text: string): Promise<ts.Diagnostic[]> => {
    await writeFile(file, text)
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [],
    })
    return [...ts.getPreEmitDiagnostics(program)]
  }
  t.same((await check(TYPE_TEST)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'valid lines compile, every @ts-expect-error line fails')
  const failing = await check(TYPE_TEST.replaceAll('// @ts-expect-error', '// (expect error)'))
  t.equal(failing.length, 2, 'without the directives, exactly the two marked lines fail')
})

const ROOT = new URL('../', import.meta.url).pathname

const WS_ERROR_TYPE_TEST = `
import { defineProtocol, WsError } from '${ROOT}plugin.js'
const protocol = defineProtocol().error('banned', 'Banned.')
declare module '${ROOT}plugin.js' { interface Register { protocol: typeof protocol } }
export const app = new WsError('banned', 'Banned from this room')
export const builtin = new WsError('forbidden', 'No')
// @ts-expect-error a code the registered protocol does not declare
export const nope = new WsError('no_such_code', 'No')
`

t.test('WsError accepts the registered protocol\'s codes and refuses others (checked with tsc)', async (t) => {
  const file = join(await tempDir(t), 'ws-error.ts')
  const check = async (text: string): Promise<string[]> => {
    await writeFile(file, text)
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
    })
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  }
  t.same(await check(WS_ERROR_TYPE_TEST), [], 'valid lines compile and the marked line fails')
  const failing = await check(WS_ERROR_TYPE_TEST.replace('// @ts-expect-error', '// (expect error)'))
  t.equal(failing.length, 1)
  t.match(failing[0], '"no_such_code"')
})
