/**
 * HTTP routes: the document as JSON and YAML, and the docs page with its assets. Each route
 * carries a schema so that `@fastify/swagger`, when the app uses it, lists them correctly and
 * points readers of the OpenAPI document to the AsyncAPI description of the WebSocket endpoint:
 * each operation's `externalDocs`, and `x-asyncapi` (plus `externalDocs` unless the app set its
 * own) at the document's root.
 */
import type { FastifyContextConfig, FastifyInstance, FastifySchema } from 'fastify'
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

/** The parts of `@fastify/swagger`'s route-level `swaggerTransform` used here. */
interface SwaggerTransformInput { schema: FastifySchema, openapiObject: Record<string, unknown> }

/**
 * Route-level `swaggerTransform` of `@fastify/swagger`: it also hands over the OpenAPI document
 * being built, which gets a link to the AsyncAPI document at its root (`x-asyncapi`, and
 * `externalDocs` unless the app set its own). The schema is left as it is.
 */
function linkFromOpenApi (url: string, description: string): (input: SwaggerTransformInput) => { schema: FastifySchema } {
  return ({ schema, openapiObject }) => {
    openapiObject['x-asyncapi'] = url
    openapiObject.externalDocs ??= { description, url }
    return { schema }
  }
}
/** Page assets are plumbing, not API: keep them out of an OpenAPI document (`@fastify/swagger`). */
const HIDDEN: FastifySchema = { hide: true } as FastifySchema

export function registerAsyncApiRoutes (app: FastifyInstance, views: DocumentViews, settings: RouteSettings): void {
  const { routePrefix, docsPath, wsPath } = settings
  const about = `The WebSocket endpoint \`GET ${wsPath}\` is described by an AsyncAPI 3.0.0 document (every message, its schema, request/reply pairs, error and close codes), not by this OpenAPI document.`
  const documentUrl = `${routePrefix}/asyncapi.json`
  const externalDocs = { description: `The AsyncAPI document of the WebSocket endpoint \`GET ${wsPath}\``, url: documentUrl }

  // `asyncapi.*` is the server's view (canonical); `asyncapi.client.*` the client's, for client generators.
  for (const [view, base, which] of [['server', 'asyncapi', ''], ['client', 'asyncapi.client', ' from the client\'s view']] as const) {
    app.get(`${routePrefix}/${base}.json`, {
      // Typed here without importing @fastify/swagger, an optional companion of the app.
      config: (view === 'server' ? { swaggerTransform: linkFromOpenApi(documentUrl, externalDocs.description) } : {}) as FastifyContextConfig,
      schema: {
        summary: `AsyncAPI document${which} (JSON)`,
        description: about,
        tags: TAGS,
        externalDocs,
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
        externalDocs,
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
      externalDocs,
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
