/**
 * What the rate limiter reads of a frame it refuses, without parsing it: a flooder must not make
 * the server parse every refused frame, so only its first bytes are scanned (clients write `type`
 * and `id` before `payload`, as the envelope order suggests).
 */

const JOIN_NEAR_START = /^\s*\{\s*"type"\s*:\s*"join_room"/

/** A `join_room` frame (refused frames are not parsed: only the start is read, where clients put `type`). */
export function isJoin (data: Buffer, isBinary: boolean): boolean {
  return !isBinary && JOIN_NEAR_START.test(data.toString('utf8', 0, Math.min(data.length, 64)))
}

const ID_NEAR_START = /"id"\s*:\s*("(?:[^"\\]|\\.){1,64}")/

/**
 * The `id` of a frame refused by the rate limit, so the client can match the error to its request.
 * A flooder must not make the server parse every refused frame: only its first bytes are scanned
 * (clients put `id` before `payload`, as the envelope order suggests).
 */
export function peekId (data: Buffer): string | undefined {
  const match = ID_NEAR_START.exec(data.toString('utf8', 0, Math.min(data.length, 256)))
  if (match === null) return undefined
  try {
    const id: unknown = JSON.parse(match[1]!)
    return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined
  } catch {
    return undefined
  }
}
