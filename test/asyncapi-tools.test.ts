/**
 * The committed documents (`asyncapi.yaml`, server's view; `asyncapi.client.yaml`, client's view)
 * with the AsyncAPI tools other people wrote: Spectral's `spectral:asyncapi` ruleset, Modelina's
 * TypeScript generator, and @asyncapi/generator's baked-in WebSocket JavaScript client template.
 * Each tool runs once per file; the tests read its output. The template's client also runs against
 * the example server (with a stand-in for its validator package, which this registry lacks).
 */
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'
import { parse as parseYaml } from 'yaml'
import spectralCore from '@stoplight/spectral-core'
import spectralParsers from '@stoplight/spectral-parsers'
import { asyncapi as asyncapiRuleset } from '@stoplight/spectral-rulesets'
import { TypeScriptGenerator, typeScriptDefaultPropertyKeyConstraints } from '@asyncapi/modelina'
import { buildChatApp } from '../examples/chat/app.js'
import { chatProtocol } from '../examples/chat/protocol.js'
import { errorCodes } from '../lib/protocol/codes.js'
import { SECRET, tokenFor, until } from './helpers/index.js'

// @asyncapi/generator ships no types.
const Generator = createRequire(import.meta.url)('@asyncapi/generator') as new (template: string, out: string, options: object) => { generateFromFile(path: string): Promise<void> }
const ROOT = new URL('../', import.meta.url).pathname
const SERVER_DOCUMENT = join(ROOT, 'asyncapi.yaml')
const CLIENT_DOCUMENT = join(ROOT, 'asyncapi.client.yaml')
// Inside the repository, so that the generated client's `require('ws')` resolves.
const WORK = join(ROOT, 'node_modules/.cache/asyncapi-tools-test')

interface Doc {
  components: { messages: Record<string, { name: string, 'x-direction': string }>, schemas: Record<string, unknown> }
  operations: Record<string, { action: string }>
}
const clientDoc = parseYaml(await readFile(CLIENT_DOCUMENT, 'utf8')) as Doc
const messages = Object.values(clientDoc.components.messages)
const pascal = (type: string): string => type.split('_').map((part) => part[0]!.toUpperCase() + part.slice(1)).join('')
const clientTypes = messages.filter((m) => m['x-direction'] === 'client-to-server').map((m) => m.name)
const serverOnlyTypes = messages.filter((m) => m['x-direction'] === 'server-to-client' && !clientTypes.includes(m.name)).map((m) => m.name)

t.test('Spectral\'s spectral:asyncapi ruleset reports no error and no warning on either document', async (t) => {
  const spectral = new spectralCore.Spectral()
  spectral.setRuleset({ extends: [asyncapiRuleset] } as never)
  for (const file of [SERVER_DOCUMENT, CLIENT_DOCUMENT]) {
    const results = await spectral.run(new spectralCore.Document(await readFile(file, 'utf8'), spectralParsers.Yaml, file))
    const problems = results.filter((r) => r.severity <= 1).map((r) => `${r.code} at ${r.path.join('.')}: ${r.message}`)
    t.same(problems, [], file)
    // Only the "3.1.0 exists" information is left: 3.0.0 is deliberate (Modelina reads 3.1.0 as plain JSON Schema).
    t.same(results.map((r) => r.code), ['asyncapi-latest-version'], `${file}: nothing but the version note`)
  }
})

t.test('the client view sends what clients send and receives what the server sends; the server view is the mirror', async (t) => {
  const serverDoc = parseYaml(await readFile(SERVER_DOCUMENT, 'utf8')) as Doc
  for (const type of clientTypes) {
    t.equal(clientDoc.operations[`send${pascal(type)}`]?.action, 'send', `client view sends ${type}`)
    t.equal(serverDoc.operations[`receive${pascal(type)}`]?.action, 'receive', `server view receives ${type}`)
  }
  for (const type of serverOnlyTypes) {
    t.equal(clientDoc.operations[`receive${pascal(type)}`]?.action, 'receive', `client view receives ${type}`)
    t.equal(serverDoc.operations[`send${pascal(type)}`]?.action, 'send', `server view sends ${type}`)
  }
  t.same(clientDoc.components, serverDoc.components, 'the same messages and schemas')
})

t.test('Modelina\'s TypeScript generator names a model for every schema and the models compile under strict', async (t) => {
  const generator = new TypeScriptGenerator({
    modelType: 'interface',
    enumType: 'union',
    // Interface keys may be reserved words: keep `type`, the wire name, as it is.
    constraints: { propertyKey: typeScriptDefaultPropertyKeyConstraints({ NO_RESERVED_KEYWORDS: (value: string) => value }) },
    processorOptions: { interpreter: { ignoreAdditionalProperties: true } },
  })
  const models = await generator.generate(await readFile(CLIENT_DOCUMENT, 'utf8'))
  const names = models.map((model) => model.modelName)
  t.same(names.filter((name) => /Anonymous/i.test(name)), [], 'no anonymous models')
  for (const name of Object.keys(clientDoc.components.schemas)) t.ok(names.includes(name), `a model named ${name}`)
  for (const message of messages) {
    const side = message['x-direction'] === 'client-to-server' ? 'Client' : 'Server'
    t.ok(names.includes(`${side}${pascal(message.name)}Payload`), `${side} ${message.name} payload`)
  }
  const source = models.map((model) => model.result).join('\n\n') + '\nexport {}\n'
  t.match(source, `interface ClientJoinRoomFrame {\n  type: 'join_room';`)
  t.match(source, 'payload: ClientJoinRoomPayload;')
  // The built-in codes, then the example's own.
  t.match(source, `type ErrorCode = ${[...Object.keys(errorCodes), ...chatProtocol.errorCodes.keys()].map((code) => JSON.stringify(code)).join(' | ')};`)
  t.match(source, 'code: ErrorCode;')

  await mkdir(WORK, { recursive: true })
  const file = join(WORK, 'modelina-models.ts')
  await writeFile(file, source)
  t.teardown(() => rm(file, { force: true }))
  const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, types: [], skipLibCheck: true })
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  t.same(diagnostics, [], 'tsc --strict accepts the models')
})

// The JavaScript template runs once; both tests below read its output.
const jsClientDir = join(WORK, 'js-client')
await rm(jsClientDir, { recursive: true, force: true })
await new Generator('core-template-client-websocket-javascript', jsClientDir, { forceWrite: true, templateParams: { server: 'development' } })
  .generateFromFile(CLIENT_DOCUMENT)

t.test('the baked-in WebSocket JavaScript client template, on the client view, generates a client that sends only client messages to /ws', async (t) => {
  const client = await readFile(join(jsClientDir, 'client.js'), 'utf8')
  await promisify(execFile)(process.execPath, ['--check', join(jsClientDir, 'client.js')])
  t.pass('node --check accepts client.js')
  t.match(client, /^class FastifyWsRooms \{$/m, 'the class name is an identifier')
  t.match(client, `this.url = url || 'ws://127.0.0.1:3000/ws';`, 'the default URL is the WebSocket route')
  const sendMethods = [...client.matchAll(/^ {2}async (send[A-Z]\w*)\(/gm)].map((match) => match[1])
  t.same(sendMethods.sort(), clientTypes.map((type) => `send${pascal(type)}`).sort(), 'one send method per client message')
  for (const type of serverOnlyTypes) t.notMatch(client, `send${pascal(type)}(`, `no method sends the server's ${type}`)
})

/**
 * The generated client requires `@asyncapi/keeper` (its outgoing-message validator), which the npm
 * registry reachable here does not have. This stand-in offers the same two functions and really
 * validates, with Ajv, against the frame schemas of the document the client was generated from.
 */
const KEEPER_STAND_IN = `'use strict'
const { readFileSync } = require('node:fs')
const YAML = require('yaml')
const Ajv = require('ajv')
exports.compileSchemasByOperationId = async (file, operationId) => {
  const doc = YAML.parse(readFileSync(file, 'utf8'))
  const ajv = new Ajv({ strict: false, allErrors: true })
  const pointer = (ref) => ref.slice(2).split('/').reduce((node, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
  const resolve = (node) => node.$ref === undefined ? node : resolve(pointer(node.$ref))
  // Inline or by reference: the payload, with the document's schemas as the root its refs point into.
  return doc.operations[operationId].messages.map((ref) => ajv.compile({ ...resolve(resolve(ref).payload), components: { schemas: doc.components.schemas } }))
}
exports.validateMessage = (validate, message) => validate(message) ? { isValid: true } : { isValid: false, validationErrors: validate.errors }
`

t.test('the template\'s client talks to the example server: joins, chats, gets its replies, and refuses a frame the document forbids', async (t) => {
  const keeper = join(jsClientDir, 'node_modules/@asyncapi/keeper')
  await mkdir(keeper, { recursive: true })
  await writeFile(join(keeper, 'index.js'), KEEPER_STAND_IN)
  const app = await buildChatApp({ jwtSecret: SECRET })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }

  const { log, error } = console
  console.log = console.error = () => {} // the generated client logs every step, and the refused send
  t.teardown(() => { console.log = log; console.error = error })
  const Client = createRequire(import.meta.url)(join(jsClientDir, 'client.js')) as new (url: string) => TemplateClient
  const client = new Client(`ws://127.0.0.1:${port}/ws?token=${tokenFor('alice')}`)
  t.teardown(() => client.close())
  const frames: Array<{ type: string, id?: string, room?: string, seq?: number, payload: Record<string, unknown> }> = []
  client.registerMessageHandler((text) => frames.push(JSON.parse(text)))
  await client.connect()
  const frame = (match: (f: typeof frames[number]) => boolean): Promise<typeof frames[number]> => until(() => frames.some(match), 'a frame').then(() => frames.find(match)!)

  t.match(await frame((f) => f.type === 'connected'), { payload: { userId: 'alice' } })
  await client.sendJoinRoom({ type: 'join_room', id: 'j1', payload: { room: 'general' } })
  t.match(await frame((f) => f.id === 'j1'), { type: 'room_joined', payload: { room: 'general', members: ['alice'] } })
  await client.sendMessage({ type: 'message', id: 'm1', payload: { room: 'general', content: 'hello from the template' } })
  t.match(await frame((f) => f.id === 'm1'), { type: 'ack' })
  t.match(await frame((f) => f.type === 'message'), { room: 'general', seq: 1, payload: { userId: 'alice', content: 'hello from the template' } })
  await client.sendGetRoomStats({ type: 'get_room_stats', id: 's1', payload: { room: 'general' } })
  t.match(await frame((f) => f.id === 's1'), { type: 'room_stats', payload: { room: 'general', members: 1 } })
  await t.rejects(client.sendJoinRoom({ type: 'join_room', id: 'j2', payload: {} }), /validation failed/i, 'a join without a room never leaves the client')
})

interface TemplateClient {
  connect(): Promise<void>
  close(): void
  registerMessageHandler(handler: (text: string) => void): void
  sendJoinRoom(frame: object): Promise<unknown>
  sendMessage(frame: object): Promise<unknown>
  sendGetRoomStats(frame: object): Promise<unknown>
}
