/**
 * The generated client of an app that declares a presence state: typed `setPresence` and
 * `onPresenceUpdated`, a members view that keeps each member's state, and the client's own state
 * set again after a reconnect. A document without a presence state has none of it.
 */
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import WebSocket from 'ws'
import { Type } from 'typebox'
import { defineProtocol } from '../plugin.js'
import { buildApp, tokenFor } from './helpers/index.js'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent, nextMessage, startProxy, tempDir } from './helpers/sdk.js'

const protocol = defineProtocol().presence(Type.Object({
  status: Type.Union([Type.Literal('online'), Type.Literal('away')]),
  name: Type.Optional(Type.String({ maxLength: 40 })),
}, { additionalProperties: false }))

const server = await buildApp(t, { protocol })
const input = join(await tempDir(t), 'asyncapi.yaml')
await writeFile(input, server.app.asyncapi({ yaml: true }))
const generated = await generateInto(t, input)
const sdk = await loadPackage(generated.outDir)

/** A generated client with its default options (a fast backoff only, so the reconnect test is quick). */
function client (url: string, user: string): any {
  const c = sdk.createClient({ url, token: () => tokenFor(user), WebSocket, reconnect: sdk.randomisedExponentialBackoff({ baseMs: 20, maxMs: 100 }) })
  t.teardown(() => c.close())
  return c
}

t.test('the document and the client have the presence messages only when the protocol declares a state', async (t) => {
  const messages = Object.keys(server.app.asyncapi().channels.ws!.messages as object)
  t.ok(messages.includes('client.set_presence') && messages.includes('server.presence_updated'))
  t.ok(generated.onMethods.includes('onPresenceUpdated'))
  t.equal(typeof sdk.RealtimeClient.prototype.setPresence, 'function')
  t.equal(typeof sdk.RealtimeClient.prototype.sendSetPresence, 'function')
  t.match(readFileSync(join(generated.outDir, 'README.md'), 'utf8'), /Presence state: `setPresence\(room, state\)`/, 'its README explains it')

  const chat = readFileSync(CHAT_DOCUMENT, 'utf8')
  t.notMatch(chat, /presence_updated|set_presence/, 'the chat example declares none: its document has neither')
  const plain = await loadPackage((await generateInto(t, CHAT_DOCUMENT)).outDir)
  t.equal(plain.RealtimeClient.prototype.setPresence, undefined)
  t.equal(plain.RealtimeClient.prototype.sendSetPresence, undefined)
  t.equal(plain.RealtimeClient.prototype.onPresenceUpdated, undefined)
  t.notMatch(readFileSync(CHAT_DOCUMENT.replace(/asyncapi\.yaml$/, 'asyncapi.client.yaml'), 'utf8'), /presence_updated/)
})

const TYPE_TEST = `
import { createClient, type WebSocketConstructor } from './dist/index.js'
declare const WS: WebSocketConstructor
const client = createClient({ url: 'ws://127.0.0.1:1/ws', WebSocket: WS })
export const set: Promise<void> = client.setPresence('lobby', { status: 'away', name: 'Alice' })
export const status: 'online' | 'away' | undefined = client.members('lobby')?.presence['bob']?.status
client.onPresenceUpdated((update) => { const s: 'online' | 'away' | undefined = update.state?.status; return s })
// @ts-expect-error a state the schema does not allow
client.setPresence('lobby', { status: 'asleep' })
`

t.test('setPresence, onPresenceUpdated and the members view are typed by the state schema (checked with tsc)', async (t) => {
  const file = join(generated.outDir, 'type-test.ts')
  const check = async (text: string): Promise<string[]> => {
    await writeFile(file, text)
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, types: [],
    })
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  }
  t.same(await check(TYPE_TEST), [], 'valid lines compile, the @ts-expect-error line fails')
  t.equal((await check(TYPE_TEST.replaceAll('// @ts-expect-error', '// (expect error)'))).length, 1, 'without the directive, exactly that line fails')
})

t.test('members views carry the states and follow presence_updated', async (t) => {
  const alice = client(server.url, 'alice')
  const bob = client(server.url, 'bob')
  await alice.sendJoinRoom({ room: 'lobby' })
  await alice.setPresence('lobby', { status: 'online', name: 'Alice' })
  const joined = await bob.sendJoinRoom({ room: 'lobby' })
  t.same(joined.presence, { alice: { status: 'online', name: 'Alice' } }, 'room_joined carries the states')
  t.same(bob.members('lobby').presence, { alice: { status: 'online', name: 'Alice' } })

  const update = nextMessage((h) => bob.onPresenceUpdated(h))
  await alice.setPresence('lobby', { status: 'away' })
  const { payload, meta } = await update
  t.same(payload, { userId: 'alice', state: { status: 'away' } })
  t.equal(meta.room, 'lobby')
  t.same(bob.members('lobby').presence, { alice: { status: 'away' } }, 'the view follows')
  await t.rejects(alice.setPresence('lobby', { status: 'asleep' }), { code: 'invalid_message' }, 'a state the schema refuses')
  await t.rejects(alice.setPresence('elsewhere', { status: 'online' }), { code: 'not_in_room' })
})

t.test('after a network loss the client sets its last state again in each re-joined room', async (t) => {
  const proxy = await startProxy(t, server.port)
  const alice = client(`ws://127.0.0.1:${proxy.port}/ws`, 'alice')
  const bob = client(server.url, 'bob')
  await bob.sendJoinRoom({ room: 'ops' })
  await bob.sendJoinRoom({ room: 'desk' })
  await alice.sendJoinRoom({ room: 'ops' })
  await alice.sendJoinRoom({ room: 'desk' })
  const heard = nextMessage((h) => bob.onPresenceUpdated(h), (p, meta) => meta.room === 'ops' && p.state?.status === 'away')
  await alice.setPresence('ops', { status: 'away', name: 'on call' })
  await heard

  proxy.refusing = true
  const left = nextMessage((h) => bob.onUserLeft(h), (p, meta) => p.userId === 'alice' && meta.room === 'ops')
  const disconnected = nextEvent(alice, 'disconnected')
  proxy.cut()
  await disconnected
  await left
  t.same(bob.members('ops').presence, {}, 'the server forgot the state with the connection')

  const restored = nextMessage((h) => bob.onPresenceUpdated(h), (p, meta) => p.userId === 'alice' && meta.room === 'ops')
  proxy.refusing = false
  t.same((await restored).payload.state, { status: 'away', name: 'on call' }, 'set again after the re-join')
  t.same(bob.members('ops').presence, { alice: { status: 'away', name: 'on call' } })
  t.same((await bob.sendGetMembers({ room: 'desk' })).presence, {}, 'a room where it set no state gets none')
})
