/**
 * The two documents of an app point to each other: the OpenAPI document of `@fastify/swagger` to
 * the AsyncAPI document of the WebSocket endpoint, and the AsyncAPI document back to the OpenAPI
 * one (`asyncapi.openapi`); the SDK generator follows that link to find both from one base URL.
 */
import t from 'tap'
import fastifySwagger from '@fastify/swagger'
import { discover } from '../sdk-gen/inputs.js'
import { buildApp } from './helpers/index.js'
import { parserProblems } from './helpers/asyncapi.js'

const bearer = { bearerAuth: { type: 'http', scheme: 'bearer' } } as const

t.test('the OpenAPI document links to the AsyncAPI document at its root and on the AsyncAPI routes', async (t) => {
  const { app } = await buildApp(t, {}, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 't', version: '1' } } })
  })
  const openapi = app.swagger() as any
  t.equal(openapi['x-asyncapi'], '/asyncapi.json')
  t.same(openapi.externalDocs, { description: 'The AsyncAPI document of the WebSocket endpoint `GET /ws`', url: '/asyncapi.json' })
  t.equal(openapi.paths['/asyncapi.json'].get.externalDocs.url, '/asyncapi.json')
  t.equal(openapi.paths['/asyncapi.yaml'].get.externalDocs.url, '/asyncapi.json')
})

t.test('an app\'s own root externalDocs is kept; a route prefix moves the link', async (t) => {
  const own = { description: 'Our handbook', url: 'https://example.com/handbook' }
  const { app } = await buildApp(t, { asyncapi: { routePrefix: '/api' } }, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 't', version: '1' }, externalDocs: own } })
  })
  const openapi = app.swagger() as any
  t.same(openapi.externalDocs, own)
  t.equal(openapi['x-asyncapi'], '/api/asyncapi.json')
})

t.test('the AsyncAPI document links back to the OpenAPI document, in both views, and stays valid', async (t) => {
  const target = await buildApp(t, { asyncapi: { openapi: '/documentation/json' } })
  for (const [view, file] of [['server', 'asyncapi.json'], ['client', 'asyncapi.client.json']] as const) {
    const built = target.app.asyncapi({ view }) as any
    t.equal(built['x-openapi'], '/documentation/json', `${view}: app.asyncapi() carries the path`)
    t.equal(built.info.externalDocs, undefined, `${view}: externalDocs needs an absolute URL, which only a request gives`)
    const served = await (await fetch(`http://127.0.0.1:${target.port}/${file}`)).json() as any
    t.equal(served['x-openapi'], '/documentation/json')
    t.equal(served.info.externalDocs.url, `http://127.0.0.1:${target.port}/documentation/json`, `${view}: the served document links absolutely`)
    const { parsed, problems } = await parserProblems(served)
    t.ok(parsed, view)
    t.same(problems.filter((problem) => problem.severity === 0), [], `${view}: no parser errors`)
  }
  const absolute = await buildApp(t, { asyncapi: { openapi: 'https://api.example.com/openapi.json' } })
  t.equal((absolute.app.asyncapi() as any).info.externalDocs.url, 'https://api.example.com/openapi.json')
  t.equal((target.app.asyncapi({ yaml: true }) as string).includes('x-openapi: /documentation/json'), true)
  const plain = await buildApp(t)
  t.equal((plain.app.asyncapi() as any)['x-openapi'], undefined, 'no link unless asked for')
})

t.test('a bad openapi link fails at registration', async (t) => {
  await t.rejects(buildApp(t, { asyncapi: { openapi: 'documentation/json' } }), { code: 'WS_ERR_INVALID_OPTION', message: /asyncapi\.openapi/ })
})

t.test('the generator finds the OpenAPI document where the AsyncAPI document points, off the usual paths', async (t) => {
  const target = await buildApp(t, { asyncapi: { openapi: '/internal/api-spec' } }, async (app) => {
    await app.register(fastifySwagger, { openapi: { info: { title: 't', version: '1' }, components: { securitySchemes: bearer } } })
    app.get('/internal/api-spec', { schema: { hide: true } as object }, async () => app.swagger())
  })
  const found = await discover(`http://127.0.0.1:${target.port}`, { openapi: true, asyncapi: true })
  t.equal(found.openapi?.source, `http://127.0.0.1:${target.port}/internal/api-spec`)
  t.equal(found.asyncapi?.kind, 'asyncapi')
})
