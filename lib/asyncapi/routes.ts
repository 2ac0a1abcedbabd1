/**
 * HTTP routes: the document as JSON and YAML, and the docs page with its assets. Each route
 * carries a schema so that `@fastify/swagger`, when the app uses it, lists them correctly and
 * points readers of the OpenAPI document to the AsyncAPI description of the WebSocket endpoint.
 */
import type { FastifyInstance, FastifySchema } from 'fastify'
import { DOCS_ASSETS, readDocsAsset, type DocsAsset } from './docs-page.js'
import type { AsyncApiView, RequestOrigin } from './served-document.js'

export interface DocumentViews {
  json(view: AsyncApiView, origin: RequestOrigin): string
  yaml(view: AsyncApiView, origin: RequestOrigin): string
  html(docsPath: string): string
}

export interface RouteSettings {
  routePrefix: string
  docsPath: string | false
  wsPath: string
}

const TAGS = ['asyncapi']
/** Page assets are plumbing, not API: keep them out of an OpenAPI document (`@fastify/swagger`). */
const HIDDEN: FastifySchema = { hide: true } as FastifySchema

export function registerAsyncApiRoutes (app: FastifyInstance, views: DocumentViews, settings: RouteSettings): void {
  const { routePrefix, docsPath, wsPath } = settings
  const about = `The WebSocket endpoint \`GET ${wsPath}\` is described by an AsyncAPI 3.0.0 document (every message, its schema, request/reply pairs, error and close codes), not by this OpenAPI document.`

  // `asyncapi.*` is the server's view (canonical); `asyncapi.client.*` the client's, for client generators.
  for (const [view, base, which] of [['server', 'asyncapi', ''], ['client', 'asyncapi.client', ' from the client\'s view']] as const) {
    app.get(`${routePrefix}/${base}.json`, {
      schema: {
        summary: `AsyncAPI document${which} (JSON)`,
        description: about,
        tags: TAGS,
        response: {
          200: {
            description: `The AsyncAPI 3.0.0 document of the WebSocket endpoint${which}.`,
            content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
          },
        },
      },
    }, async (request, reply) => reply.type('application/json; charset=utf-8').send(views.json(view, request)))

    app.get(`${routePrefix}/${base}.yaml`, {
      schema: {
        summary: `AsyncAPI document${which} (YAML)`,
        description: about,
        tags: TAGS,
        response: {
          200: {
            description: `The AsyncAPI 3.0.0 document of the WebSocket endpoint${which}, as YAML.`,
            content: { 'application/yaml': { schema: { type: 'string' } } },
          },
        },
      },
    }, async (request, reply) => reply.type('application/yaml; charset=utf-8').send(views.yaml(view, request)))
  }

  if (docsPath === false) return
  app.get(docsPath, {
    schema: {
      summary: 'AsyncAPI docs page',
      description: `${about} This page renders it; it loads nothing from outside this server.`,
      tags: TAGS,
      response: {
        200: {
          description: 'An HTML page rendering the AsyncAPI document.',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
      },
    },
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(views.html(docsPath)))

  for (const name of Object.keys(DOCS_ASSETS) as DocsAsset[]) {
    app.get(`${docsPath}/${name}`, { schema: HIDDEN }, async (_request, reply) => {
      return reply
        .type(DOCS_ASSETS[name].contentType)
        .header('cache-control', 'public, max-age=86400')
        .send(await readDocsAsset(name))
    })
  }
}
