/**
 * Whole-frame JSON Schemas: the envelope around a message's payload schema, so that what the
 * document describes is exactly what travels on the wire (see `lib/protocol.ts`, `lib/frames.ts`).
 */
import { MAX_ID_LENGTH } from '../protocol.js'
import type { JsonSchema } from './sanitize-schema.js'

function hasRequiredProperties (payload: JsonSchema): boolean {
  return Array.isArray(payload.required) && payload.required.length > 0
}

/** `{ type, id?, payload }`: `payload` may be omitted when nothing in it is required. */
export function clientFrameSchema (type: string, payload: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      type: { const: type },
      id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'Request id: the reply (or `error`) carries the same id.' },
      payload,
    },
    required: hasRequiredProperties(payload) ? ['type', 'payload'] : ['type'],
    additionalProperties: false,
  }
}

/** `{ type, id?, room?, seq?, payload }`. */
export function serverFrameSchema (type: string, payload: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      type: { const: type },
      id: { type: 'string', description: 'Present on a reply: the id of the request it answers.' },
      room: { type: 'string', description: 'Present on a room delivery: the room it was delivered to.' },
      seq: { type: 'integer', minimum: 1, description: 'Present on a durable room delivery: the room\'s sequence number of this message.' },
      payload,
    },
    required: ['type', 'payload'],
    additionalProperties: false,
  }
}
