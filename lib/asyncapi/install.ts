/**
 * Wires the AsyncAPI export into a Fastify instance: checks the options and every message
 * example at registration, decorates `app.asyncapi()` (built on first call after `ready()`,
 * then cached) and registers the document routes unless `expose: false`.
 */
import type { FastifyInstance } from 'fastify'
import type { Catalog } from '../catalog.js'
import type { ServerLimits } from '../protocol/limits.js'
import { WsRegistrationError } from '../errors.js'
import { buildDocument, type AsyncApiDocument } from './build-document.js'
import { toClientView } from './client-view.js'
import { payloadExamples } from './examples.js'
import { resolveAsyncApiOptions, type AsyncApiOptions } from './options.js'
import { fullPath, registerAsyncApiRoutes } from './routes.js'
import { ServedDocuments, type DocumentFormat } from './served-cache.js'
import { servedDocument, type AsyncApiView, type RequestOrigin } from './served-document.js'

export type { AsyncApiView }
import { toYaml } from './yaml.js'

/**
 * `app.asyncapi()`: the document as (frozen) JSON data, or as YAML text with `{ yaml: true }`.
 * `view: 'client'` gives the client's view. Servers are the configured ones only (the HTTP routes
 * add one derived from the request when there are none).
 */
export interface AsyncApiAccessor {
  (options: { yaml: true, view?: AsyncApiView }): string
  (options?: { yaml?: false, view?: AsyncApiView }): AsyncApiDocument
  /** Where the document routes answer (what the docs page links to); undefined with `expose: false`. */
  readonly urls: AsyncApiUrls | undefined
}

/** URL paths of the document routes, the encapsulation prefix and `routePrefix` included. */
export interface AsyncApiUrls {
  readonly json: string
  readonly yaml: string
  readonly clientJson: string
  readonly clientYaml: string
}

export interface AsyncApiSource {
  catalog: Catalog
  /** The route as registered; the document gets it with the context's prefix. */
  wsPath: string
  auth: boolean
  /** Published as `x-limits`. */
  limits?: ServerLimits
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

export function installAsyncApi (app: FastifyInstance, source: AsyncApiSource, given: AsyncApiOptions | undefined): void {
  const options = resolveAsyncApiOptions(given)
  // Registered under a prefix, the endpoint clients reach is the prefixed path.
  source = { ...source, wsPath: fullPath(app, source.wsPath) }
  // Fail at registration, not at the first request, when an example is stale.
  for (const { def } of source.catalog.client.values()) payloadExamples(def, 'client')
  for (const def of source.catalog.server.values()) payloadExamples(def, 'server')

  let ready = false
  const documents = new Map<AsyncApiView, AsyncApiDocument>()
  const yamls = new Map<AsyncApiView, string>()
  const jsons = new Map<AsyncApiView, string>()

  function get (view: AsyncApiView = 'server'): AsyncApiDocument {
    if (!ready) {
      throw new WsRegistrationError('WS_ERR_ASYNCAPI_NOT_READY',
        'app.asyncapi() is available once every plugin has loaded: call it after `await app.ready()` (or in an onReady hook)')
    }
    let document = documents.get(view)
    if (document === undefined) {
      const server = documents.get('server') ?? deepFreeze(buildDocument({ ...source, options }))
      documents.set('server', server)
      document = view === 'server' ? server : deepFreeze(toClientView(server))
      documents.set(view, document)
    }
    return document
  }

  const accessor = Object.assign((call?: { yaml?: boolean, view?: AsyncApiView }) => {
    const view = call?.view ?? 'server'
    if (view !== 'server' && view !== 'client') throw new TypeError(`app.asyncapi(): view must be "server" or "client"; got ${String(view)}`)
    const doc = get(view)
    if (call?.yaml !== true) return doc
    let text = yamls.get(view)
    if (text === undefined) yamls.set(view, text = toYaml(doc))
    return text
  }, { urls: options.expose ? documentUrls(app, options.routePrefix) : undefined }) as AsyncApiAccessor

  // Without configured servers (or with a relative OpenAPI link) each origin gets its own copy,
  // serialised once per origin (bounded: see served-cache.ts).
  const perOrigin = new ServedDocuments()
  const servedText = (view: AsyncApiView, format: DocumentFormat, origin: RequestOrigin): string | undefined =>
    perOrigin.text(view, format, origin, () => {
      const doc = get(view)
      const withServer = servedDocument(doc, origin, source.wsPath, source.auth)
      if (withServer === doc) return undefined
      return format === 'json' ? JSON.stringify(withServer) : toYaml(withServer)
    })

  app.decorate('asyncapi', accessor)
  app.addHook('onReady', async () => { ready = true })

  if (!options.expose) return
  registerAsyncApiRoutes(app, {
    json: (view, origin) => {
      const text = servedText(view, 'json', origin)
      if (text !== undefined) return text
      let same = jsons.get(view)
      if (same === undefined) jsons.set(view, same = JSON.stringify(get(view)))
      return same
    },
    yaml: (view, origin) => servedText(view, 'yaml', origin) ?? accessor({ yaml: true, view }),
  }, { routePrefix: options.routePrefix, wsPath: source.wsPath })
}

function documentUrls (app: FastifyInstance, routePrefix: string): AsyncApiUrls {
  const at = (file: string): string => fullPath(app, `${routePrefix}/${file}`)
  return Object.freeze({ json: at('asyncapi.json'), yaml: at('asyncapi.yaml'), clientJson: at('asyncapi.client.json'), clientYaml: at('asyncapi.client.yaml') })
}
