/**
 * Whole-frame JSON Schemas: the envelope of `lib/protocol/envelope.ts` around a message's payload
 * schema, so that what the document describes is exactly what travels on the wire.
 */
import { CLIENT_FRAME_KEYS, MAX_ID_LENGTH, SERVER_FRAME_KEYS } from '../protocol/envelope.js'
import type { JsonSchema } from './sanitize-schema.js'

type ClientKey = (typeof CLIENT_FRAME_KEYS)[number]
type ServerKey = (typeof SERVER_FRAME_KEYS)[number]

function hasRequiredProperties (payload: JsonSchema): boolean {
  return Array.isArray(payload.required) && payload.required.length > 0
}

/** The envelope's keys in wire order, each with its schema. */
function properties<K extends string> (keys: readonly K[], schemas: Record<K, JsonSchema>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {}
  for (const key of keys) out[key] = schemas[key]
  return out
}

/** `{ type, id?, payload }`: `payload` may be omitted when nothing in it is required. */
export function clientFrameSchema (type: string, payload: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: properties<ClientKey>(CLIENT_FRAME_KEYS, {
      type: { const: type },
      id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'Request id: the reply (or `error`) carries the same id.' },
      payload,
    }),
    required: (hasRequiredProperties(payload) ? ['type', 'payload'] : ['type']) satisfies ClientKey[],
    additionalProperties: false,
  }
}

/** `{ type, id?, room?, seq?, payload }`. */
export function serverFrameSchema (type: string, payload: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: properties<ServerKey>(SERVER_FRAME_KEYS, {
      type: { const: type },
      id: { type: 'string', description: 'Present on a reply: the id of the request it answers.' },
      room: { type: 'string', description: 'Present on a room delivery: the room it was delivered to.' },
      seq: { type: 'integer', minimum: 1, description: 'Present on a durable room delivery: the room\'s sequence number of this message.' },
      payload,
    }),
    required: ['type', 'payload'] satisfies ServerKey[],
    additionalProperties: false,
  }
}
