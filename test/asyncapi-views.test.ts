/**
 * The two views over HTTP and `app.asyncapi()`: the canonical server view, the client view for
 * client generators, and the `default` server derived from the request when the app declares none.
 */
import t from 'tap'
import Fastify from 'fastify'
import { parse as parseYaml } from 'yaml'
import wsPlugin, { type AsyncApiDocument, type WsPluginOptions } from '../plugin.js'
import { parserProblems } from './helpers/asyncapi.js'

interface Tap { teardown(fn: () => unknown): void }

async function readyApp (t: Tap, options: WsPluginOptions = {}): Promise<ReturnType<typeof Fastify>> {
  const app = Fastify()
  await app.register(wsPlugin, { auth: { secret: 'test-secret' }, heartbeatIntervalMs: 0, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

t.test('app.asyncapi({ view: "client" }) swaps send and receive and keeps everything else', async (t) => {
  const app = await readyApp(t)
  const server = app.asyncapi()
  const client = app.asyncapi({ view: 'client' })
  t.equal(app.asyncapi({ view: 'client' }), client, 'built once')
  t.ok(Object.isFrozen(client))
  t.equal(client['x-view'], 'client')
  t.equal(server['x-view'], 'server')
  t.match(client.operations.sendJoinRoom, { action: 'send', messages: [{ $ref: '#/channels/ws/messages/client.join_room' }], reply: { messages: [{ $ref: '#/channels/ws/messages/server.room_joined' }] } })
  t.match(client.operations.receiveRoomJoined, { action: 'receive', messages: [{ $ref: '#/channels/ws/messages/server.room_joined' }] })
  t.equal(Object.keys(client.operations).length, Object.keys(server.operations).length)
  t.same(client.components, server.components)
  t.match(client.info.description, /written from the \*\*client's perspective/)
  t.notMatch(client.info.description, /written from the \*\*server's perspective/)
  t.same(parseYaml(app.asyncapi({ yaml: true, view: 'client' })), JSON.parse(JSON.stringify(client)))
  t.same((await parserProblems(client)).problems, [])
})

t.test('without configured servers, the served documents declare the requesting host as the default server, with the route as pathname', async (t) => {
  const app = await readyApp(t, { path: '/live' })
  t.equal(app.asyncapi().servers, undefined, 'app.asyncapi() declares only configured servers')
  t.equal(app.asyncapi().channels.ws!.address, '/live', 'and then keeps the route in the channel address')
  for (const url of ['/asyncapi.json', '/asyncapi.client.json']) {
    const doc = (await app.inject({ url, headers: { host: 'chat.example.org:8443', 'x-forwarded-proto': 'https' } })).json() as AsyncApiDocument
    t.match(doc.servers, { default: { host: 'chat.example.org:8443', protocol: 'ws', pathname: '/live', security: [{ $ref: '#/components/securitySchemes/jwt' }] } }, url)
    t.equal(doc.channels.ws!.address, null, `${url}: the route lives in the server`)
  }
  const client = parseYaml((await app.inject({ url: '/asyncapi.client.yaml', headers: { host: 'localhost:3000' } })).body) as AsyncApiDocument
  t.equal(client['x-view'], 'client')
  t.match(client.servers, { default: { host: 'localhost:3000', protocol: 'ws', pathname: '/live' } })
  t.same((await parserProblems(client)).problems, [])
})

t.test('behind a TLS proxy (trustProxy) the derived server is wss; a malformed Host is not echoed', async (t) => {
  const app = Fastify({ trustProxy: true })
  await app.register(wsPlugin, { auth: false, heartbeatIntervalMs: 0 })
  t.teardown(() => app.close())
  await app.ready()
  const secure = (await app.inject({ url: '/asyncapi.json', headers: { host: 'internal:3000', 'x-forwarded-host': 'chat.example.org', 'x-forwarded-proto': 'https' } })).json() as AsyncApiDocument
  t.same(secure.servers?.default, { host: 'chat.example.org', protocol: 'wss', description: String(secure.servers?.default?.description), pathname: '/ws' })
  const odd = (await app.inject({ url: '/asyncapi.json', headers: { host: 'evil.example"><script>' } })).json() as AsyncApiDocument
  t.equal(odd.servers, undefined)
  t.equal(odd.channels.ws!.address, '/ws')
})

t.test('configured servers are served as they are, for both views', async (t) => {
  const app = await readyApp(t, { asyncapi: { servers: { prod: { host: 'chat.example.com', protocol: 'wss' } } } })
  const served = (await app.inject({ url: '/asyncapi.client.json', headers: { host: 'other.example.org' } })).json() as AsyncApiDocument
  t.same(Object.keys(served.servers ?? {}), ['prod'])
  t.equal(served.servers!.prod!.pathname, '/ws')
})
