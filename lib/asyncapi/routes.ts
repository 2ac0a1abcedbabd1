/**
 * HTTP routes: the document as JSON and YAML, in the server's view and the client's (the
 * browsable page is the opt-in `fastify-ws-rooms/docs`). Each route carries a schema so that
 * `@fastify/swagger`, when the app uses it, lists them correctly and points readers of the OpenAPI
 * document to the AsyncAPI description of the WebSocket endpoint.
 */
import type { FastifyInstance } from 'fastify'
import { WsRegistrationError } from '../errors.js'
import type { AsyncApiView, RequestOrigin } from './served-document.js'

export interface DocumentViews {
  json(view: AsyncApiView, origin: RequestOrigin): string
  yaml(view: AsyncApiView, origin: RequestOrigin): string
}

export interface RouteSettings {
  routePrefix: string
  wsPath: string
}

export const TAGS = ['asyncapi']

/** What a route says about the WebSocket endpoint, for readers of an OpenAPI document. */
export function aboutWsEndpoint (wsPath: string): string {
  return `The WebSocket endpoint \`GET ${wsPath}\` is described by an AsyncAPI 3.0.0 document (every message, its schema, request/reply pairs, error and close codes), not by this OpenAPI document.`
}

/** The URL path a route of `app` answers on: Fastify puts the context's prefix in front. */
export function fullPath (app: FastifyInstance, url: string): string {
  if (app.prefix === '') return url
  return url === '/' ? app.prefix : app.prefix + url
}

/**
 * Fail with a coded error naming the option that moves the route, rather than Fastify's
 * duplicated-route error (e.g. `/docs` of `@fastify/swagger-ui`).
 */
export function claimRoute (app: FastifyInstance, url: string, option: string): void {
  if (app.hasRoute({ method: 'GET', url })) {
    throw new WsRegistrationError('WS_ERR_ROUTE_TAKEN',
      `GET ${fullPath(app, url)} is already a route of this app: move this plugin's route with the option "${option}"`)
  }
}

export function registerAsyncApiRoutes (app: FastifyInstance, views: DocumentViews, settings: RouteSettings): void {
  const { routePrefix, wsPath } = settings
  const about = aboutWsEndpoint(wsPath)

  // `asyncapi.*` is the server's view (canonical); `asyncapi.client.*` the client's, for client generators.
  for (const [view, base, which] of [['server', 'asyncapi', ''], ['client', 'asyncapi.client', ' from the client\'s view']] as const) {
    claimRoute(app, `${routePrefix}/${base}.json`, 'asyncapi.routePrefix')
    claimRoute(app, `${routePrefix}/${base}.yaml`, 'asyncapi.routePrefix')
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
}
