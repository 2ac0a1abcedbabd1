/**
 * `fastify-ws-rooms/docs`: the browsable AsyncAPI page, opt-in (as `@fastify/swagger-ui` is to
 * `@fastify/swagger`). The document routes stay in the main plugin; this page adds a renderer,
 * `@asyncapi/react-component` (an optional peer dependency), whose bundle it serves itself. The
 * page links the document routes (`app.asyncapi.urls`, prefixes included).
 *
 *   await app.register(wsPlugin, { ... })
 *   await app.register(wsDocs, { routePrefix: '/asyncapi' })
 */
import type { FastifyInstance, FastifySchema } from 'fastify'
import { WsRegistrationError } from './lib/errors.js'
import { checkOptionKeys, type KeyTable } from './lib/option-keys.js'
import { invalidOption } from './lib/errors.js'
import { DOCS_ASSETS, docsPageHtml, locateDocsAssets, readDocsAsset, type DocsAsset } from './lib/asyncapi/docs-page.js'
import { routePath } from './lib/asyncapi/options.js'
import { claimRoute, fullPath, TAGS } from './lib/asyncapi/routes.js'

export interface WsDocsOptions {
  /**
   * Path of the page; its script and stylesheet are served under it. Under an encapsulation
   * prefix, the page and its assets move with it.
   * @default '/asyncapi'
   */
  routePrefix?: string
}

const KEYS: KeyTable<WsDocsOptions> = { routePrefix: true }
/** Page assets are plumbing, not API: keep them out of an OpenAPI document (`@fastify/swagger`). */
const HIDDEN = { hide: true } as FastifySchema

async function wsDocs (app: FastifyInstance, options: WsDocsOptions): Promise<void> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...own } = options as Record<string, unknown>
  checkOptionKeys(own, KEYS, '')
  const pagePath = routePath('routePrefix', options.routePrefix ?? '/asyncapi', false)
  if (!app.hasDecorator('asyncapi')) {
    throw new WsRegistrationError('WS_ERR_DOCS_WITHOUT_PLUGIN',
      'fastify-ws-rooms/docs renders the document of fastify-ws-rooms: register the main plugin first, in this context or a parent')
  }
  const files = locateDocsAssets()
  claimRoute(app, pagePath, 'routePrefix')
  // The main plugin says where its document routes are (its prefixes included), if it serves them.
  const links = app.asyncapi.urls

  let html: string | undefined
  app.get(pagePath, {
    schema: {
      summary: 'AsyncAPI docs page',
      description: 'The WebSocket API of this app, rendered from its AsyncAPI document; the page loads nothing from outside this server.',
      tags: TAGS,
      ...(links === undefined ? {} : { externalDocs: { description: 'The AsyncAPI document this page renders', url: links.json } }),
      response: {
        200: {
          description: 'An HTML page rendering the AsyncAPI document.',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
      },
    },
  }, async (request, reply) => {
    html ??= docsPageHtml(app.asyncapi(), request.routeOptions.url ?? fullPath(app, pagePath), links)
    return reply.type('text/html; charset=utf-8').send(html)
  })

  const base = pagePath === '/' ? '' : pagePath
  for (const name of Object.keys(DOCS_ASSETS) as DocsAsset[]) {
    app.get(`${base}/${name}`, { schema: HIDDEN }, async (_request, reply) => {
      return reply
        .type(DOCS_ASSETS[name].contentType)
        .header('cache-control', 'public, max-age=86400')
        .send(await readDocsAsset(files[name]))
    })
  }
}

export default wsDocs
export { wsDocs }
