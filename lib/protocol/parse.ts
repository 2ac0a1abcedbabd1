/**
 * Parsing frames, strict and precise: every failure says what is wrong and where. Browser-safe;
 * the server adds its prototype-pollution scan on top (`lib/client-frames.ts`).
 */
import type { ErrorCode } from './codes.js'
import { CLIENT_FRAME_KEYS, MAX_ID_LENGTH, type ClientFrame, type ServerFrame } from './envelope.js'

export interface FrameIssue {
  readonly code: Extract<ErrorCode, 'invalid_frame' | 'invalid_message'>
  readonly message: string
  /** The request id, when the frame got far enough to have a valid one. */
  readonly id: string | undefined
  readonly details?: ReadonlyArray<{ path: string, message: string }>
}

export type ParseResult = { ok: true, frame: ClientFrame } | { ok: false, issue: FrameIssue }

const CLIENT_KEYS: ReadonlySet<string> = new Set(CLIENT_FRAME_KEYS)

function fail (code: FrameIssue['code'], message: string, id?: string, path?: string): ParseResult {
  return { ok: false, issue: path === undefined ? { code, message, id } : { code, message, id, details: [{ path, message }] } }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Parse a client → server frame: `{"type": string, "id"?: string (1–64), "payload"?: object}`. */
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
    if (!CLIENT_KEYS.has(key)) {
      return fail('invalid_message', `Unknown envelope key "${key}"`, validId, '/' + key)
    }
  }
  return { ok: true, frame: { type, id: validId, payload: payload ?? {} } }
}

export type ServerParseResult =
  | { ok: true, frame: ServerFrame }
  /** `cause`: the JSON parser's error, when the text is not JSON. */
  | { ok: false, message: string, cause?: unknown }

/**
 * Parse a server → client frame. Lenient past the envelope: a field of the wrong type is left
 * out, so that a client keeps working with a newer server.
 */
export function parseServerFrame (text: string): ServerParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { ok: false, message: 'Frame is not valid JSON', cause: error }
  }
  if (!isPlainObject(value) || typeof value.type !== 'string') return { ok: false, message: 'Frame without a type' }
  const { type, id, room, seq, payload } = value
  const frame: { type: string, id?: string, room?: string, seq?: number, payload: unknown } = { type, payload }
  if (typeof id === 'string') frame.id = id
  if (typeof room === 'string') frame.room = room
  if (typeof seq === 'number') frame.seq = seq
  return { ok: true, frame }
}
