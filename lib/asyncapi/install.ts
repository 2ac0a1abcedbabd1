/**
 * Wires the AsyncAPI export into a Fastify instance: checks the options and every message
 * example at registration, decorates `app.asyncapi()` (built on first call after `ready()`,
 * then cached) and registers the document routes unless `expose: false`.
 */
import type { FastifyInstance } from 'fastify'
import type { Catalog } from '../catalog.js'
import { WsRegistrationError } from '../errors.js'
import { buildDocument, type AsyncApiDocument } from './build-document.js'
import { payloadExamples } from './examples.js'
import { resolveAsyncApiOptions, type AsyncApiOptions } from './options.js'
import { fullPath, registerAsyncApiRoutes } from './routes.js'
import { toYaml } from './yaml.js'

/** `app.asyncapi()`: the document as (frozen) JSON data, or as YAML text with `{ yaml: true }`. */
export interface AsyncApiAccessor {
  (options: { yaml: true }): string
  (options?: { yaml?: false }): AsyncApiDocument
}

export interface AsyncApiSource {
  catalog: Catalog
  /** The route as registered; the document gets it with the context's prefix. */
  wsPath: string
  auth: boolean
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
  let document: AsyncApiDocument | undefined
  let json: string | undefined
  let yaml: string | undefined

  function get (): AsyncApiDocument {
    if (!ready) {
      throw new WsRegistrationError('WS_ERR_ASYNCAPI_NOT_READY',
        'app.asyncapi() is available once every plugin has loaded: call it after `await app.ready()` (or in an onReady hook)')
    }
    document ??= deepFreeze(buildDocument({ ...source, options }))
    return document
  }

  const accessor = ((call?: { yaml?: boolean }) => {
    const doc = get()
    if (call?.yaml === true) return (yaml ??= toYaml(doc))
    return doc
  }) as AsyncApiAccessor

  app.decorate('asyncapi', accessor)
  app.addHook('onReady', async () => { ready = true })

  if (!options.expose) return
  registerAsyncApiRoutes(app, {
    json: () => (json ??= JSON.stringify(get())),
    yaml: () => accessor({ yaml: true }),
  }, { routePrefix: options.routePrefix, wsPath: source.wsPath })
}
