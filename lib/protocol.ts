/**
 * The client → server envelope: `{"type": string, "id"?: string (1–64), "payload"?: object}`.
 * Parsing is strict and precise: every failure says what is wrong and where.
 */
import secureJson from 'secure-json-parse'
import type { ErrorCode } from './codes.js'

export const MAX_ID_LENGTH = 64

export interface ClientFrame {
  readonly type: string
  readonly id: string | undefined
  /** `{}` when the frame carried no payload. */
  readonly payload: unknown
}

export interface FrameIssue {
  readonly code: Extract<ErrorCode, 'invalid_frame' | 'invalid_message'>
  readonly message: string
  /** The request id, when the frame got far enough to have a valid one. */
  readonly id: string | undefined
  readonly details?: ReadonlyArray<{ path: string, message: string }>
}

export type ParseResult = { ok: true, frame: ClientFrame } | { ok: false, issue: FrameIssue }

const ENVELOPE_KEYS = new Set(['type', 'id', 'payload'])

function fail (code: FrameIssue['code'], message: string, id?: string, path?: string): ParseResult {
  return { ok: false, issue: path === undefined ? { code, message, id } : { code, message, id, details: [{ path, message }] } }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function parseClientFrame (text: string): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail('invalid_frame', 'Frame is not valid JSON')
  }
  if (!isPlainObject(value)) return fail('invalid_frame', 'Frame must be a JSON object')

  const { type, id, payload } = value
  let validId: string | undefined
  if (id !== undefined) {
    if (typeof id !== 'string' || id.length < 1 || id.length > MAX_ID_LENGTH) {
      return fail('invalid_message', `"id" must be a string of 1–${MAX_ID_LENGTH} characters`, undefined, '/id')
    }
    validId = id
  }
  if (typeof type !== 'string' || type.length === 0) {
    return fail('invalid_message', '"type" must be a non-empty string', validId, '/type')
  }
  if (payload !== undefined && !isPlainObject(payload)) {
    return fail('invalid_message', '"payload" must be an object', validId, '/payload')
  }
  for (const key in value) {
    if (!ENVELOPE_KEYS.has(key)) {
      return fail('invalid_message', `Unknown envelope key "${key}"`, validId, '/' + key)
    }
  }
  // As Fastify does for request bodies: a handler that merges a payload must not be handed a prototype.
  if (text.includes('__proto__') || text.includes('constructor')) {
    try {
      secureJson.scan(value, { protoAction: 'error', constructorAction: 'error' })
    } catch {
      return fail('invalid_message', 'Frame contains a forbidden "__proto__" or "constructor.prototype" key', validId)
    }
  }
  return { ok: true, frame: { type, id: validId, payload: payload ?? {} } }
}
