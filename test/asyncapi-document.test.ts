import t from 'tap'
import { readFile } from 'node:fs/promises'
import Fastify from 'fastify'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { parse as parseYaml } from 'yaml'
import wsPlugin, { closeCodes, defineProtocol, errorCodes, type AsyncApiDocument, type WsPluginOptions } from '../plugin.js'
import { renderChatAsyncApiYaml } from '../examples/chat/asyncapi.js'
import { buildChatApp, DEV_JWT_SECRET } from '../examples/chat/app.js'
import { chatProtocol } from '../examples/chat/protocol.js'
import { readPackageInfo } from '../lib/asyncapi/package-info.js'
import { parserProblems } from './helpers/asyncapi.js'

/** The chat's code table: the built-in codes, then the example's own (`chatProtocol.error`). */
const chatErrorCodes: Record<string, string> = { ...errorCodes, ...Object.fromEntries(chatProtocol.errorCodes) }

interface Tap { teardown(fn: () => unknown): void }

async function readyApp (t: Tap, options: WsPluginOptions = {}): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify()
  await app.register(wsPlugin, { auth: { secret: 'test-secret' }, heartbeatIntervalMs: 0, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

async function chatDocument (t: Tap): Promise<AsyncApiDocument> {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, ws: { heartbeatIntervalMs: 0 } })
  t.teardown(() => app.close())
  await app.ready()
  return app.asyncapi()
}

/** A message's whole-frame schema: its payload refers to the named component. */
function frameOf (document: AsyncApiDocument, key: string): Record<string, unknown> {
  const ref = (document.components.messages[key]!.payload as { $ref: string }).$ref
  return document.components.schemas[ref.replace('#/components/schemas/', '')]!
}

/** Every example of every message, checked against that message's whole-frame schema. */
function invalidExamples (document: AsyncApiDocument): string[] {
  const bad: string[] = []
  for (const [key, message] of Object.entries(document.components.messages)) {
    const check = Compile({ ...(message.payload as object), components: { schemas: document.components.schemas } } as never)
    const examples = message.examples as Array<{ name: string, payload: unknown }>
    if (examples.length === 0) bad.push(`${key}: no example`)
    for (const example of examples) if (!check.Check(example.payload)) bad.push(`${key}: ${example.name}`)
  }
  return bad
}

const game = defineProtocol()
  .server('score', {
    summary: 'The score of a round.',
    payload: Type.Object({ round: Type.Integer({ minimum: 1 }), points: Type.Record(Type.String(), Type.Integer()) }),
    examples: [{ round: 1, points: { alice: 3 } }],
  })
  .server('board', {
    durable: false,
    payload: Type.Cyclic({ Cell: Type.Object({ id: Type.String(), next: Type.Array(Type.Ref('Cell')) }, { additionalProperties: false }) }, 'Cell'),
  })
  .client('get_board', { payload: Type.Object({}), reply: 'board', handler: () => ({ id: 'a', next: [] }) })
  .client('submit_score', {
    payload: Type.Object({ round: Type.Integer({ minimum: 1 }), points: Type.Integer() }),
    examples: [{ round: 2, points: 5 }],
    handler: () => undefined,
  })

t.test('the example app\'s document parses with no errors and no warnings', async (t) => {
  const { parsed, problems } = await parserProblems(await chatDocument(t))
  t.ok(parsed)
  t.same(problems, [])
})

t.test('the committed asyncapi.yaml parses with no errors and no warnings', async (t) => {
  const { parsed, problems } = await parserProblems(await readFile('asyncapi.yaml', 'utf8'))
  t.ok(parsed)
  t.same(problems, [])
})

t.test('the committed asyncapi.yaml is what the code produces (run `npm run asyncapi` after changing the protocol)', async (t) => {
  const committed = await readFile('asyncapi.yaml', 'utf8')
  t.equal(committed, await renderChatAsyncApiYaml(), 'asyncapi.yaml is stale: run `npm run asyncapi`')
  t.equal(await readFile('asyncapi.client.yaml', 'utf8'), await renderChatAsyncApiYaml('client'), 'asyncapi.client.yaml is stale: run `npm run asyncapi`')
})

t.test('the document has one ws channel, the WebSocket route in each server\'s pathname, the token query binding and a JWT scheme', async (t) => {
  const app = await readyApp(t, { path: '/live', asyncapi: { servers: { prod: { host: 'chat.example.com', protocol: 'wss' }, proxied: { host: 'example.org', protocol: 'wss', pathname: '/chat' } } } })
  const doc = app.asyncapi()
  t.equal(doc.asyncapi, '3.0.0')
  t.same(Object.keys(doc.channels), ['ws'])
  t.match(doc.channels.ws, {
    address: null,
    bindings: { ws: { method: 'GET', query: { type: 'object', properties: { token: { type: 'string', description: String } } } } },
  })
  t.match(doc.components.securitySchemes, { jwt: { type: 'httpApiKey', name: 'token', in: 'query', description: String } })
  t.same(doc.servers, {
    prod: { host: 'chat.example.com', protocol: 'wss', pathname: '/live', security: [{ $ref: '#/components/securitySchemes/jwt' }] },
    proxied: { host: 'example.org', protocol: 'wss', pathname: '/chat/live', security: [{ $ref: '#/components/securitySchemes/jwt' }] },
  })
  t.same((await parserProblems(doc)).problems, [])
})

t.test('every message is keyed by direction and type, named by its wire type, with an operation of the matching action', async (t) => {
  const doc = await chatDocument(t)
  const keys = Object.keys(doc.components.messages)
  t.same(Object.keys(doc.channels.ws!.messages as object), keys)
  t.ok(keys.includes('client.message') && keys.includes('server.message'), 'the same wire type both ways')
  for (const key of keys) {
    const [direction, type] = key.split('.') as ['client' | 'server', string]
    const message = doc.components.messages[key]!
    t.equal(message.name, type)
    t.equal(message['x-direction'], direction === 'client' ? 'client-to-server' : 'server-to-client')
    t.match(frameOf(doc, key), { type: 'object', properties: { type: { const: type } }, additionalProperties: false, discriminator: 'type' })
    const id = (direction === 'client' ? 'receive' : 'send') + type.split('_').map((part) => part[0]!.toUpperCase() + part.slice(1)).join('')
    t.match(doc.operations[id], {
      action: direction === 'client' ? 'receive' : 'send',
      channel: { $ref: '#/channels/ws' },
      messages: [{ $ref: `#/channels/ws/messages/${key}` }],
    }, id)
  }
  t.equal(Object.keys(doc.operations).length, keys.length, 'one operation per message')
})

t.test('frames and payloads are named schemas; requests and replies correlate by id; the error code is the enum of the code table', async (t) => {
  const doc = await chatDocument(t)
  t.same(doc.components.messages['client.join_room']!.payload, { $ref: '#/components/schemas/ClientJoinRoomFrame' })
  t.match(doc.components.schemas.ClientJoinRoomFrame, { properties: { payload: { $ref: '#/components/schemas/ClientJoinRoomPayload' } }, discriminator: 'type' })
  t.match(doc.components.schemas.ClientJoinRoomPayload, { title: 'ClientJoinRoomPayload', type: 'object', properties: { room: { type: 'string' } } })
  t.same(doc.components.correlationIds.requestId!.location, '$message.payload#/id')
  const correlated = Object.entries(doc.components.messages).filter(([, m]) => m.correlationId !== undefined).map(([key]) => key)
  t.same(correlated, [
    ...Object.keys(doc.components.messages).filter((key) => key.startsWith('client.')),
    'server.room_joined', 'server.room_left', 'server.members_page', 'server.pong', 'server.token_refreshed', 'server.ack', 'server.error', 'server.room_stats',
  ], 'every request, and every reply')
  t.match(doc.components.schemas.ServerErrorPayload, { properties: { code: { $ref: '#/components/schemas/ErrorCode' } } })
  t.same(doc.components.schemas.ErrorCode!.enum, Object.keys(chatErrorCodes))
  t.match(doc.components.schemas.ServerErrorPayload, { properties: { details: { items: { title: 'ServerErrorPayloadDetailsItem' } } } }, 'nested objects are titled')
  for (const [id, operation] of Object.entries(doc.operations)) {
    t.match(operation, { description: /\S/, tags: [{ name: /^(client-to-server|server-to-client)$/ }] }, `${id} is described and tagged`)
  }
  t.match(doc.info, { license: { name: 'MIT' }, tags: [{ name: 'client-to-server' }, { name: 'server-to-client' }] })
})

t.test('a payload definition named like a generated schema is refused with a coded error', async (t) => {
  const clash = defineProtocol().server('board', {
    durable: false,
    payload: Type.Cyclic({ ServerScorePayload: Type.Object({ next: Type.Array(Type.Ref('ServerScorePayload')) }) }, 'ServerScorePayload'),
  }).server('score', { payload: Type.Object({ round: Type.Integer() }) })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: false, protocol: clash })
  await app.ready()
  t.throws(() => app.asyncapi(), { code: 'WS_ERR_SCHEMA_CONFLICT', message: /ServerScorePayload/ })
})

t.test('requests carry their reply: declared ones, and ack otherwise', async (t) => {
  const doc = await chatDocument(t)
  const replyOf = (id: string): unknown => (doc.operations[id]!.reply as { messages: unknown }).messages
  t.same(replyOf('receiveJoinRoom'), [{ $ref: '#/channels/ws/messages/server.room_joined' }])
  t.same(replyOf('receiveGetRoomStats'), [{ $ref: '#/channels/ws/messages/server.room_stats' }])
  t.same(replyOf('receiveMessage'), [{ $ref: '#/channels/ws/messages/server.ack' }])
  t.equal(doc.components.messages['client.join_room']!['x-reply'], 'room_joined')
  t.equal(doc.components.messages['client.react']!['x-reply'], 'ack')
  t.equal(doc.operations.sendRoomJoined!.reply, undefined, 'server messages are not requests')
})

t.test('durable and room deliveries are stated per server message', async (t) => {
  const doc = await chatDocument(t)
  const flags = (type: string): unknown => {
    const message = doc.components.messages[`server.${type}`]!
    return [message['x-durable'], message['x-room']]
  }
  t.same(flags('message'), [true, true])
  t.same(flags('typing'), [false, true])
  t.same(flags('user_joined'), [false, true])
  t.same(flags('room_joined'), [false, false])
  t.same(flags('reaction'), [true, true], 'app messages are durable by default and may go to rooms')
  t.same(flags('room_stats'), [false, true])
})

t.test('client frames require payload only when the payload has required properties', async (t) => {
  const doc = await chatDocument(t)
  t.same((frameOf(doc, 'client.join_room') as { required: string[] }).required, ['type', 'payload'])
  t.same((frameOf(doc, 'client.ping') as { required: string[] }).required, ['type'])
})

t.test('every example of the example app\'s document validates against its message schema', async (t) => {
  t.same(invalidExamples(await chatDocument(t)), [])
})

t.test('app-defined messages appear with their request/reply pairs, refs rewritten to components, examples valid', async (t) => {
  const app = await readyApp(t, { protocol: game })
  const doc = app.asyncapi()
  t.match(doc.components.messages['server.score'], { name: 'score', summary: 'The score of a round.', 'x-durable': true, 'x-room': true })
  t.same((doc.operations.receiveGetBoard!.reply as { messages: unknown }).messages, [{ $ref: '#/channels/ws/messages/server.board' }])
  t.same((doc.operations.receiveSubmitScore!.reply as { messages: unknown }).messages, [{ $ref: '#/channels/ws/messages/server.ack' }])
  t.match(frameOf(doc, 'server.board'), { properties: { payload: { $ref: '#/components/schemas/ServerBoardPayload' } } })
  t.match(doc.components.schemas.ServerBoardPayload, { $ref: '#/components/schemas/Cell' })
  t.match(doc.components.schemas?.Cell, { properties: { next: { items: { $ref: '#/components/schemas/Cell' } } } })
  const text = JSON.stringify(doc)
  t.notMatch(text, /"\$id"|"~kind"|"\$defs"/, 'no TypeBox internals leak')
  t.same(invalidExamples(doc), [], 'declared and generated examples are valid')
  t.same((await parserProblems(doc)).problems, [])
})

t.test('x-error-codes, x-close-codes and the description come from the one codes table', async (t) => {
  const doc = await chatDocument(t)
  t.same(Object.keys(doc['x-error-codes']), Object.keys(chatErrorCodes))
  for (const [code, description] of Object.entries(chatErrorCodes)) {
    t.equal(doc['x-error-codes'][code]!.description, description)
    t.ok(doc.info.description.includes(`\`${code}\``), `${code} in the prose`)
  }
  for (const [code, info] of Object.entries(closeCodes)) {
    t.same(doc['x-close-codes'][code], { name: info.name, reconnect: info.reconnect, description: info.description })
    t.ok(doc.info.description.includes(`| ${code} | \`${info.name}\` | ${info.reconnect ? 'reconnect' : 'stop'} |`), `${code} in the prose`)
  }
  t.match(doc.info.description, /server's perspective/)
})

t.test('info defaults to the app\'s package.json, and options override it', async (t) => {
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { name: string, version: string, description: string }
  t.match(readPackageInfo(), { name: pkg.name, version: pkg.version, description: pkg.description, license: 'MIT' })
  const defaults = (await readyApp(t)).asyncapi()
  t.equal(defaults.info.title, 'Fastify Ws Rooms', 'the package name in words: the client templates name their class after it')
  t.same(defaults.info.license, { name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' })
  t.equal(defaults.info.version, pkg.version)
  t.ok(defaults.info.description.startsWith(pkg.description))
  const custom = (await readyApp(t, { asyncapi: { info: { title: 'Game', version: '2.0.0', description: 'Rounds.' } } })).asyncapi()
  t.same([custom.info.title, custom.info.version], ['Game', '2.0.0'])
  t.ok(custom.info.description.startsWith('Rounds.\n'))
  const contact = { name: 'Team', url: 'https://example.org', email: 'team@example.org' }
  const license = { name: 'Apache-2.0' }
  t.match((await readyApp(t, { asyncapi: { info: { contact, license } } })).asyncapi().info, { contact, license })
})

t.test('without auth the document claims no security', async (t) => {
  const doc = (await readyApp(t, { auth: false })).asyncapi()
  t.equal(doc.components.securitySchemes, undefined)
  t.equal((doc.channels.ws!.bindings as { ws: { query?: unknown } }).ws.query, undefined)
  t.same((await parserProblems(doc)).problems, [])
})

t.test('app.asyncapi() before ready() throws a coded error', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wsPlugin, { auth: false })
  t.throws(() => app.asyncapi(), { code: 'WS_ERR_ASYNCAPI_NOT_READY', message: /ready\(\)/ })
})

t.test('the document is built once, frozen, and its YAML says the same', async (t) => {
  const app = await readyApp(t)
  const doc = app.asyncapi()
  t.equal(app.asyncapi(), doc)
  t.ok(Object.isFrozen(doc) && Object.isFrozen(doc.components.messages['client.join_room']))
  t.equal(app.asyncapi({ yaml: true }), app.asyncapi({ yaml: true }))
  t.same(parseYaml(app.asyncapi({ yaml: true })), JSON.parse(JSON.stringify(doc)))
  t.notMatch(app.asyncapi({ yaml: true }), /[&*]a\d/, 'no YAML anchors')
})

t.test('an example that breaks its schema is refused at registration', async (t) => {
  const bad = defineProtocol().server('score', { payload: Type.Object({ round: Type.Integer() }), examples: [{ round: 'one' } as never] })
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(wsPlugin, { auth: false, protocol: bad }) }, { code: 'WS_ERR_INVALID_EXAMPLE', message: /"score"/ })
})

t.test('bad asyncapi options are refused at registration with the option named', async (t) => {
  const cases: Array<[WsPluginOptions['asyncapi'], RegExp]> = [
    [{ routePrefix: 'api' }, /asyncapi\.routePrefix/],
    [{ docsPath: '/docs/' } as never, /asyncapi\.docsPath.*fastify-ws-rooms\/docs/],
    [{ servers: { prod: { host: 'x', protocol: 'http' as 'ws' } } }, /asyncapi\.servers\.prod\.protocol/],
    [{ info: { title: '' } }, /asyncapi\.info\.title/],
    [{ expose: 'yes' as unknown as boolean }, /asyncapi\.expose/],
  ]
  for (const [asyncapi, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(wsPlugin, { auth: false, asyncapi }) }, { code: 'WS_ERR_INVALID_OPTION', message })
  }
})

t.test('a Type.Ref without its definition is refused at registration', async (t) => {
  t.throws(() => defineProtocol().server('node', { payload: Type.Object({ next: Type.Ref('Node') }) }),
    { code: 'WS_ERR_UNSUPPORTED_SCHEMA', message: /Type\.Ref\("Node"\).*Type\.Cyclic/ })
})
