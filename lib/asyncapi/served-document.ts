/**
 * What the HTTP routes serve: the document of a view, and, when the app configures no server,
 * a `default` server derived from the request (its host and scheme), so that tools that build
 * the URL from `servers` alone (client templates) reach this endpoint.
 */
import type { AsyncApiDocument } from './build-document.js'
import { serverObject } from './build-document.js'

/** `'server'` (the canonical document) or `'client'` (the same protocol from the client's side, for client generators). */
export type AsyncApiView = 'server' | 'client'

export interface RequestOrigin {
  /** The `Host` the request named (`Fastify`'s `request.host`, proxies included with `trustProxy`). */
  host: string
  /** `request.protocol`: `https` → `wss`. */
  protocol: string
}

/** A host name or IP literal with an optional port: anything else is not echoed into the document. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

export function withRequestServer (document: AsyncApiDocument, origin: RequestOrigin, wsPath: string, auth: boolean): AsyncApiDocument {
  if (document.servers !== undefined || !HOST.test(origin.host)) return document
  const server = serverObject({
    host: origin.host,
    protocol: origin.protocol === 'https' ? 'wss' : 'ws',
    description: 'The server that served this document (derived from the request, because the app declares none).',
  }, wsPath, auth)
  const channels = { ...document.channels, ws: { ...document.channels.ws, address: null } }
  const { asyncapi, info, ...rest } = document
  return { asyncapi, info, servers: { default: server }, ...rest, channels }
}
