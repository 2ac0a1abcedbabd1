/**
 * The REST history route (opt-in, `history` option): pages a room's durable history backwards
 * from a `seq` — the "load older messages" live recovery cannot give. The adapter's history
 * answers first; what is older than it still keeps comes from the app's own store (`load`).
 * Same auth as the socket (a bearer token), same `authorizeJoin`.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Adapter } from './adapter.js'
import type { Authenticator } from './auth.js'
import type { Catalog } from './catalog.js'
import { WsError, WsRegistrationError } from './errors.js'
import type { ResolvedHistoryOptions } from './history-options.js'
import { historySchemas } from './history-schema.js'
import type { ErrorCode } from './protocol/codes.js'
import type { WsUser } from './types.js'

export interface HistorySource {
  catalog: Catalog
  adapter: Adapter
  authenticator: Authenticator
  authorizeJoin: ((user: WsUser, room: string) => boolean | Promise<boolean>) | undefined
  auth: boolean
}

/** Frames oldest first; the oldest `seq` read, and how many were read (exclusions included): a full read means older ones may exist. */
interface Page { frames: string[], oldest: number, count: number }

async function readPage (source: HistorySource, options: ResolvedHistoryOptions, room: string, before: number, limit: number, user: WsUser): Promise<Page> {
  const kept = await source.adapter.historyBefore?.(room, before, limit) ?? []
  const visible = kept.filter((frame) => frame.except?.users?.includes(user.id) !== true)
  const page: Page = { frames: visible.map((frame) => frame.data), oldest: kept[0]?.seq ?? before, count: kept.length }
  if (page.count >= limit || page.oldest <= 1 || options.load === undefined) return page
  const stored = [...await options.load(room, { before: page.oldest, limit: limit - page.count, user })]
    .filter((message) => Number.isInteger(message.seq) && message.seq >= 1 && message.seq < page.oldest)
    .sort((a, b) => a.seq - b.seq)
    .slice(-(limit - page.count))
  if (stored.length === 0) return page
  const older = stored.map(({ seq, type, payload }) => JSON.stringify({ type, room, seq, payload }))
  return { frames: [...older, ...page.frames], oldest: stored[0]!.seq, count: page.count + stored.length }
}

const STATUS: Partial<Record<ErrorCode, number>> = { invalid_message: 400, unauthorized: 401, forbidden: 403, unavailable: 503 }

function refuse (reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  if (code === 'unauthorized') reply.header('www-authenticate', 'Bearer')
  return reply.code(STATUS[code] ?? 500).send({ code, message })
}

/**
 * `@fastify/swagger`'s route-level transform: it sees the document being built, so a `security`
 * naming a scheme the app did not declare fails with a clear error instead of inside swagger.
 */
function checkSecuritySchemes (security: ResolvedHistoryOptions['security']) {
  return ({ schema, openapiObject }: { schema: unknown, openapiObject: { components?: { securitySchemes?: Record<string, unknown> } } }) => {
    const declared = openapiObject.components?.securitySchemes ?? {}
    for (const name of security.flatMap((requirement) => Object.keys(requirement))) {
      if (!(name in declared)) {
        throw new WsRegistrationError('WS_ERR_INVALID_OPTION', `history.security names the OpenAPI security scheme "${name}", which the @fastify/swagger config does not declare: ` +
          `add openapi.components.securitySchemes.${name} ({ type: 'http', scheme: 'bearer' }), or set history.security to the scheme you declared`)
      }
    }
    return { schema }
  }
}

export function registerHistoryRoute (app: FastifyInstance, source: HistorySource, options: ResolvedHistoryOptions): void {
  const schemas = historySchemas(source.catalog, options.maxLimit, options.defaultLimit)
  app.get(options.path, {
    attachValidation: true,
    // Typed here without importing @fastify/swagger, an optional companion of the app.
    config: { swaggerTransform: source.auth ? checkSecuritySchemes(options.security) : undefined } as FastifyContextConfig,
    schema: {
      operationId: 'getRoomHistory',
      summary: 'Older messages of a room',
      description: 'A page of the room\'s durable messages with a `seq` below `before` (the newest ones without it), oldest first, exactly as the socket delivers them. Pass `next` as `before` for the page before. Needs the same token as the WebSocket endpoint, and `authorizeJoin` must allow the room.',
      tags: ['history'],
      ...(source.auth ? { security: options.security } : {}),
      params: schemas.params,
      querystring: schemas.querystring,
      response: { 200: schemas.page, 400: schemas.error, 401: schemas.error, 403: schemas.error, 503: schemas.error },
    },
  }, async (request: FastifyRequest, reply) => {
    if (request.validationError !== undefined) return refuse(reply, 'invalid_message', request.validationError.message)
    const auth = await source.authenticator.authenticate(request)
    if (!auth.ok) return refuse(reply, 'unauthorized', auth.reason)
    const { room } = request.params as { room: string }
    const { before, limit } = request.query as { before?: number, limit?: number }
    const user = auth.identity.user
    if (source.authorizeJoin !== undefined && !await source.authorizeJoin(user, room)) return refuse(reply, 'forbidden', `Not allowed in room "${room}"`)
    let page: Page
    try {
      page = await readPage(source, options, room, before ?? Number.MAX_SAFE_INTEGER, limit ?? options.defaultLimit, user)
    } catch (err) {
      if (err instanceof WsError && err.code === 'unavailable') return refuse(reply, 'unavailable', err.message)
      throw err
    }
    const next = page.count >= (limit ?? options.defaultLimit) && page.oldest > 1 ? page.oldest : null
    // The frames are kept as the JSON the socket sent: the body is assembled, not re-serialised.
    return reply.type('application/json; charset=utf-8')
      .send(`{"room":${JSON.stringify(room)},"messages":[${page.frames.join(',')}],"next":${next}}`)
  })
}
