import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import { parse as parseYaml } from 'yaml'
import wsPlugin, { type WsPluginOptions } from '../plugin.js'
import wsDocs from '../docs.js'
import { ServedDocuments } from '../lib/asyncapi/served-cache.js'

interface Tap { teardown(fn: () => unknown): void }

async function readyApp (t: Tap, options: WsPluginOptions = {}, setup?: (app: FastifyInstance) => Promise<void>, after?: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  if (setup !== undefined) await setup(app)
  await app.register(wsPlugin, { auth: { secret: 'test-secret' }, heartbeatIntervalMs: 0, ...options })
  if (after !== undefined) await after(app)
  await app.ready()
  return app
}

/** The served document is app.asyncapi() plus the `default` server derived from the request (the app declares none). */
function servedFrom (document: object, host = 'localhost:80'): object {
  const { asyncapi, info, ...rest } = JSON.parse(JSON.stringify(document)) as { asyncapi: string, info: object, channels: { ws: object } }
  const server = { host, protocol: 'ws', description: 'The server that served this document (derived from the request, because the app declares none).', pathname: '/ws', security: [{ $ref: '#/components/securitySchemes/jwt' }] }
  return { asyncapi, info, servers: { default: server }, ...rest, channels: { ...rest.channels, ws: { ...rest.channels.ws, address: null } } }
}

t.test('GET /asyncapi.json serves the document as JSON', async (t) => {
  const app = await readyApp(t)
  const response = await app.inject('/asyncapi.json')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'application/json; charset=utf-8')
  t.same(response.json(), servedFrom(app.asyncapi()))
})

t.test('GET /asyncapi.yaml serves the same document as YAML', async (t) => {
  const app = await readyApp(t)
  const response = await app.inject('/asyncapi.yaml')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'application/yaml; charset=utf-8')
  t.same(parseYaml(response.body), servedFrom(app.asyncapi()))
})

t.test('each Host gets its own document, the same bytes on every request, also after many other hosts', async (t) => {
  const app = await readyApp(t)
  const served = async (url: string, host: string): Promise<string> => {
    const response = await app.inject({ url, headers: { host } })
    t.equal(response.statusCode, 200)
    return response.body
  }
  for (const url of ['/asyncapi.json', '/asyncapi.yaml', '/asyncapi.client.json', '/asyncapi.client.yaml']) {
    const first = await served(url, 'chat.example.com')
    const parse = url.endsWith('.json') ? (text: string) => JSON.parse(text) as unknown : (text: string) => parseYaml(text) as unknown
    t.same(parse(first), servedFrom(app.asyncapi({ view: url.includes('client') ? 'client' : 'server' }), 'chat.example.com'), `${url}: the request's host`)
    t.equal(await served(url, 'chat.example.com'), first, `${url}: the same bytes again`)
    const other = await served(url, 'localhost:3000')
    t.match(other, 'localhost:3000', `${url}: another host gets its own server`)
    t.notMatch(other, 'chat.example.com')
    // A hostile client cycling through made-up hosts evicts entries; the document stays right.
    for (let i = 0; i < 40; i++) await served(url, `h${i}.example.net`)
    t.equal(await served(url, 'chat.example.com'), first, `${url}: the same bytes after 40 other hosts`)
  }
})

t.test('the per-host document cache is bounded: made-up hosts evict the least recently used, never grow it', async (t) => {
  const cache = new ServedDocuments()
  let serialised = 0
  const text = (host: string): string | undefined => cache.text('server', 'json', { host, protocol: 'http' }, () => `${++serialised} ${host}`)
  t.equal(text('chat.example.com'), '1 chat.example.com')
  for (let i = 0; i < 1000; i++) {
    text(`h${i}.example.net`)
    // The app's own host, requested all along, stays cached.
    if (i % 4 === 0) t.equal(text('chat.example.com'), '1 chat.example.com')
    if (cache.size > cache.maxEntries) t.fail(`${cache.size} entries after ${i + 1} hosts`)
  }
  t.equal(cache.size, cache.maxEntries, `at most ${cache.maxEntries} entries after 1,001 hosts`)
  t.equal(serialised, 1001, 'each made-up host serialised once, the app\'s host once')
  t.equal(text('h0.example.net'), '1002 h0.example.net', 'an evicted host is serialised again')
  const empty = new ServedDocuments()
  t.equal(empty.text('server', 'json', { host: 'x', protocol: 'http' }, () => undefined), undefined)
  t.equal(empty.size, 0, 'an origin that changes nothing is not cached')
})

t.test('the docs plugin serves an HTML page whose script and stylesheet are served by the app', async (t) => {
  const app = await readyApp(t, {}, undefined, async (app) => { await app.register(wsDocs) })
  const page = await app.inject('/asyncapi')
  t.equal(page.statusCode, 200)
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8')
  const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
  t.same(urls, [
    '/asyncapi/asyncapi-react.css', '/asyncapi.json', '/asyncapi.yaml',
    '/asyncapi.json', '/asyncapi.yaml', '/asyncapi.client.json', '/asyncapi.client.yaml',
    '/asyncapi/asyncapi-react.js',
  ], 'only local assets, and the documents it renders')
  const css = await app.inject('/asyncapi/asyncapi-react.css')
  t.equal(css.statusCode, 200)
  t.equal(css.headers['content-type'], 'text/css; charset=utf-8')
  const js = await app.inject('/asyncapi/asyncapi-react.js')
  t.equal(js.statusCode, 200)
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
  t.match(js.body.slice(0, 500), /AsyncApiStandalone/)
})

t.test('without the docs plugin there is no page: the core serves only the document', async (t) => {
  const app = await readyApp(t)
  for (const url of ['/asyncapi', '/docs', '/asyncapi/asyncapi-react.js']) t.equal((await app.inject(url)).statusCode, 404, url)
  t.equal((await app.inject('/asyncapi.json')).statusCode, 200)
})

t.test('a title with markup cannot break out of the docs page', async (t) => {
  const app = await readyApp(t, { asyncapi: { info: { title: '</script><script>alert(1)</script>' } } }, undefined, async (app) => { await app.register(wsDocs) })
  const page = (await app.inject('/asyncapi')).body
  t.equal(page.match(/<script/g)?.length, 2, 'only the page\'s own two scripts')
})

t.test('routePrefix moves the document routes and the docs plugin\'s routePrefix moves the page', async (t) => {
  const app = await readyApp(t, { asyncapi: { routePrefix: '/api' } }, undefined, async (app) => { await app.register(wsDocs, { routePrefix: '/api/ws-docs' }) })
  t.equal((await app.inject('/api/asyncapi.json')).statusCode, 200)
  t.equal((await app.inject('/api/asyncapi.yaml')).statusCode, 200)
  t.equal((await app.inject('/asyncapi.json')).statusCode, 404)
  t.equal((await app.inject('/asyncapi')).statusCode, 404)
  const page = await app.inject('/api/ws-docs')
  t.equal(page.statusCode, 200)
  t.match(page.body, 'src="/api/ws-docs/asyncapi-react.js"')
  t.equal((await app.inject('/api/ws-docs/asyncapi-react.js')).statusCode, 200)
})

t.test('under an encapsulation prefix, the document\'s channel address and the docs page\'s assets follow the prefix', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async (child) => {
    await child.register(wsPlugin, { auth: false, heartbeatIntervalMs: 0 })
    await child.register(wsDocs)
  }, { prefix: '/chat' })
  await app.ready()
  const document = (await app.inject('/chat/asyncapi.json')).json()
  // The served document declares the request's server; its pathname carries the prefixed route.
  t.same(Object.values(document.servers).map((server) => (server as { pathname: string }).pathname), ['/chat/ws'])
  const page = await app.inject('/chat/asyncapi')
  t.equal(page.statusCode, 200)
  const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
  t.same(urls.filter((url) => url.startsWith('/chat/asyncapi/')), ['/chat/asyncapi/asyncapi-react.css', '/chat/asyncapi/asyncapi-react.js'])
  for (const url of urls) t.equal((await app.inject(url)).statusCode, 200, url)
})

t.test('the docs page links the document routes of the plugin, with its prefix and routePrefix', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySwagger, { openapi: { info: { title: 'HTTP API', version: '1.0.0' } } })
  await app.register(async (child) => {
    await child.register(wsPlugin, { auth: false, heartbeatIntervalMs: 0, asyncapi: { routePrefix: '/api' } })
    await child.register(wsDocs, { routePrefix: '/docs/ws' })
  }, { prefix: '/chat' })
  await app.ready()
  const expected = { json: '/chat/api/asyncapi.json', yaml: '/chat/api/asyncapi.yaml', clientJson: '/chat/api/asyncapi.client.json', clientYaml: '/chat/api/asyncapi.client.yaml' }
  const page = (await app.inject('/chat/docs/ws')).body
  t.match(page, `<link rel="alternate" type="application/json" href="${expected.json}"`)
  t.match(page, `<link rel="alternate" type="application/yaml" href="${expected.yaml}"`)
  const links = [...(/<nav[^>]*>(.*?)<\/nav>/s.exec(page)?.[1] ?? '').matchAll(/href="([^"]+)"/g)].map((match) => match[1]!)
  t.same(links, [expected.json, expected.yaml, expected.clientJson, expected.clientYaml], 'the page links every document')
  for (const url of links) t.equal((await app.inject(url)).statusCode, 200, `${url} answers`)
  // The page's route points to the document in the OpenAPI description too.
  const openapi = app.swagger() as { paths: Record<string, { get: { externalDocs?: { url: string } } }> }
  t.equal(openapi.paths['/chat/docs/ws']?.get.externalDocs?.url, expected.json)
})

t.test('with expose: false the docs page links no document (there is none to link)', async (t) => {
  const app = await readyApp(t, { asyncapi: { expose: false } }, undefined, async (app) => { await app.register(wsDocs) })
  const page = (await app.inject('/asyncapi')).body
  t.notMatch(page, '<nav')
  t.notMatch(page, 'rel="alternate"')
  t.equal(app.asyncapi.urls, undefined)
})

t.test('a docs page on a path the app already uses (e.g. @fastify/swagger-ui at /docs) names the option that moves it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/docs', async () => 'swagger-ui')
  await app.register(wsPlugin, { auth: false })
  await t.rejects(async () => { await app.register(wsDocs, { routePrefix: '/docs' }) }, { code: 'WS_ERR_ROUTE_TAKEN', message: /GET \/docs.*"routePrefix"/ })
})

t.test('the docs plugin without the main plugin, or with a typo in its options, fails with a coded error', async (t) => {
  const alone = Fastify()
  t.teardown(() => alone.close())
  await t.rejects(async () => { await alone.register(wsDocs) }, { code: 'WS_ERR_DOCS_WITHOUT_PLUGIN', message: /register the main plugin first/ })
  const typo = Fastify()
  t.teardown(() => typo.close())
  await typo.register(wsPlugin, { auth: false })
  await t.rejects(async () => { await typo.register(wsDocs, { routPrefix: '/x' } as never) }, { code: 'WS_ERR_INVALID_OPTION', message: /"routPrefix".*did you mean "routePrefix"/ })
})

t.test('expose: false serves nothing, and app.asyncapi() still works', async (t) => {
  const app = await readyApp(t, { asyncapi: { expose: false } })
  for (const url of ['/asyncapi.json', '/asyncapi.yaml']) t.equal((await app.inject(url)).statusCode, 404, url)
  t.equal(app.asyncapi().asyncapi, '3.0.0')
})

t.test('with @fastify/swagger, the routes appear with their content types and point to the WebSocket description; /ws does not', async (t) => {
  const app = await readyApp(t, {}, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 'HTTP API', version: '1.0.0' } } })
  }, async (app) => { await app.register(wsDocs) })
  const openapi = app.swagger() as unknown as { paths: Record<string, Record<string, { description?: string, responses: Record<string, { content?: Record<string, unknown> }> }>> }
  t.same(Object.keys(openapi.paths).sort(), ['/asyncapi', '/asyncapi.client.json', '/asyncapi.client.yaml', '/asyncapi.json', '/asyncapi.yaml'])
  t.same(Object.keys(openapi.paths['/asyncapi.json']!.get!.responses['200']!.content!), ['application/json'])
  t.same(Object.keys(openapi.paths['/asyncapi.yaml']!.get!.responses['200']!.content!), ['application/yaml'])
  t.same(Object.keys(openapi.paths['/asyncapi']!.get!.responses['200']!.content!), ['text/html'])
  for (const path of ['/asyncapi.json', '/asyncapi.yaml']) {
    t.match(openapi.paths[path]!.get!.description, /`GET \/ws`.*AsyncAPI/, `${path} says where /ws is described`)
  }
  t.match(openapi.paths['/asyncapi']!.get!.description, /WebSocket API.*AsyncAPI document/)
  // The routes still answer normally with a response schema in place.
  t.equal((await app.inject('/asyncapi.json')).json().asyncapi, '3.0.0')
})
