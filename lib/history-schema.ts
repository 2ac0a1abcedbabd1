/**
 * The schemas of the history route, TypeBox-typed so `@fastify/swagger` documents the route and
 * the generated REST half types it: each message is the very frame the socket delivers (every
 * durable server message of the catalog), so a page renders them with the same code.
 */
import { Type, type TSchema } from 'typebox'
import { sanitizeSchema, titleInlineSchemas, type SchemaComponents } from './asyncapi/sanitize-schema.js'
import { pascalCase } from './protocol/names.js'
import type { Catalog } from './catalog.js'
import { errorCodes } from './protocol/codes.js'
import { ROOM_NAME_PATTERN } from '../schemas/common.js'

/** A durable server frame, as kept in history. */
function durableFrames (catalog: Catalog): TSchema {
  const frames: TSchema[] = []
  for (const def of catalog.server.values()) {
    if (!def.durable) continue
    const name = `History${pascalCase(def.name)}Frame`
    const components: SchemaComponents = {}
    // A recursive payload (`Type.Cyclic`) needs definitions an OpenAPI route cannot carry: it is documented as an object.
    let payload = sanitizeSchema(def.payload, components, `server message "${def.name}"`)
    if (Object.keys(components).length > 0) payload = { type: 'object', additionalProperties: true }
    const frame = {
      title: name,
      type: 'object',
      properties: {
        type: { const: def.name },
        room: { type: 'string' },
        seq: { type: 'integer', minimum: 1, description: 'The room\'s sequence number of this message.' },
        payload,
      },
      required: ['type', 'room', 'seq', 'payload'],
      additionalProperties: false,
    }
    frames.push(Type.Unsafe(titleInlineSchemas(frame, name)))
  }
  return frames.length === 1 ? frames[0]! : Type.Union(frames)
}

export function historySchemas (catalog: Catalog, maxLimit: number, defaultLimit: number) {
  return {
    params: Type.Object({
      room: Type.String({ pattern: ROOM_NAME_PATTERN, description: 'The room (1–128 characters from letters, digits and `_ - . : @ # /`; URL-encoded).' }),
    }),
    querystring: Type.Object({
      before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only messages with a `seq` below this one: the `next` of the previous page. Without it, the newest messages.' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit, default: defaultLimit, description: 'Most messages in the page.' })),
    }),
    page: Type.Object({
      room: Type.String(),
      messages: Type.Array(durableFrames(catalog), { description: 'Oldest first, each exactly as the socket delivered it (with `room` and `seq`).' }),
      next: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'The `before` of the next older page, or null when nothing older is kept.' }),
    }, { title: 'RoomHistoryPage', description: 'A page of older messages.' }),
    error: Type.Object({
      code: Type.Unsafe<keyof typeof errorCodes>({ type: 'string', enum: Object.keys(errorCodes) }),
      message: Type.String(),
    }, { title: 'RoomHistoryError', description: 'Refused: `code` is from the protocol\'s error codes (invalid_message, unauthorized, forbidden, unavailable).' }),
  }
}
