import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import { parse as parseYaml } from 'yaml'
import wsPlugin, { type WsPluginOptions } from '../plugin.js'

interface Tap { teardown(fn: () => unknown): void }

async function readyApp (t: Tap, options: WsPluginOptions = {}, setup?: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  if (setup !== undefined) await setup(app)
  await app.register(wsPlugin, { auth: { secret: 'test-secret' }, heartbeatIntervalMs: 0, ...options })
  await app.ready()
  return app
}

/** The served document is app.asyncapi() plus the `default` server derived from the request (the app declares none). */
function servedFrom (document: object): object {
  const { asyncapi, info, ...rest } = JSON.parse(JSON.stringify(document)) as { asyncapi: string, info: object, channels: { ws: object } }
  const server = { host: 'localhost:80', protocol: 'ws', description: 'The server that served this document (derived from the request, because the app declares none).', pathname: '/ws', security: [{ $ref: '#/components/securitySchemes/jwt' }] }
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

t.test('GET /docs serves an HTML page whose script and stylesheet are served by the app', async (t) => {
  const app = await readyApp(t)
  const page = await app.inject('/docs')
  t.equal(page.statusCode, 200)
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8')
  const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
  t.same(urls, ['/docs/asyncapi-react.css', '/docs/asyncapi-react.js'], 'only local assets')
  const css = await app.inject('/docs/asyncapi-react.css')
  t.equal(css.statusCode, 200)
  t.equal(css.headers['content-type'], 'text/css; charset=utf-8')
  const js = await app.inject('/docs/asyncapi-react.js')
  t.equal(js.statusCode, 200)
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
  t.match(js.body.slice(0, 500), /AsyncApiStandalone/)
})

t.test('a title with markup cannot break out of the docs page', async (t) => {
  const app = await readyApp(t, { asyncapi: { info: { title: '</script><script>alert(1)</script>' } } })
  const page = (await app.inject('/docs')).body
  t.equal(page.match(/<script/g)?.length, 2, 'only the page\'s own two scripts')
})

t.test('routePrefix moves the document routes and docsPath moves the docs page', async (t) => {
  const app = await readyApp(t, { asyncapi: { routePrefix: '/api', docsPath: '/api/ws-docs' } })
  t.equal((await app.inject('/api/asyncapi.json')).statusCode, 200)
  t.equal((await app.inject('/api/asyncapi.yaml')).statusCode, 200)
  t.equal((await app.inject('/asyncapi.json')).statusCode, 404)
  t.equal((await app.inject('/docs')).statusCode, 404)
  const page = await app.inject('/api/ws-docs')
  t.equal(page.statusCode, 200)
  t.match(page.body, 'src="/api/ws-docs/asyncapi-react.js"')
  t.equal((await app.inject('/api/ws-docs/asyncapi-react.js')).statusCode, 200)
})

t.test('docsPath: false keeps the document routes and drops the page', async (t) => {
  const app = await readyApp(t, { asyncapi: { docsPath: false } })
  t.equal((await app.inject('/asyncapi.json')).statusCode, 200)
  t.equal((await app.inject('/docs')).statusCode, 404)
  t.equal((await app.inject('/docs/asyncapi-react.js')).statusCode, 404)
})

t.test('expose: false serves nothing, and app.asyncapi() still works', async (t) => {
  const app = await readyApp(t, { asyncapi: { expose: false } })
  for (const url of ['/asyncapi.json', '/asyncapi.yaml', '/docs']) t.equal((await app.inject(url)).statusCode, 404, url)
  t.equal(app.asyncapi().asyncapi, '3.0.0')
})

t.test('with @fastify/swagger, the routes appear with their content types and point to the WebSocket description; /ws does not', async (t) => {
  const app = await readyApp(t, {}, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 'HTTP API', version: '1.0.0' } } })
  })
  const openapi = app.swagger() as unknown as { paths: Record<string, Record<string, { description?: string, responses: Record<string, { content?: Record<string, unknown> }> }>> }
  t.same(Object.keys(openapi.paths).sort(), ['/asyncapi.client.json', '/asyncapi.client.yaml', '/asyncapi.json', '/asyncapi.yaml', '/docs'])
  t.same(Object.keys(openapi.paths['/asyncapi.json']!.get!.responses['200']!.content!), ['application/json'])
  t.same(Object.keys(openapi.paths['/asyncapi.yaml']!.get!.responses['200']!.content!), ['application/yaml'])
  t.same(Object.keys(openapi.paths['/docs']!.get!.responses['200']!.content!), ['text/html'])
  for (const path of ['/asyncapi.json', '/asyncapi.yaml', '/docs']) {
    t.match(openapi.paths[path]!.get!.description, /`GET \/ws`.*AsyncAPI/, `${path} says where /ws is described`)
  }
  // The routes still answer normally with a response schema in place.
  t.equal((await app.inject('/asyncapi.json')).json().asyncapi, '3.0.0')
})
