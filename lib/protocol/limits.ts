/**
 * The limits a server publishes for its clients (AsyncAPI extension `x-limits`), and how a close
 * for rate reasons says when to come back. The generated client reads the limits at generation
 * time and paces what it sends within them: its re-joins after a reconnect, its offline queue, and
 * whatever the app sends in a burst. Browser-safe: no Node imports.
 */

/** `x-limits`: what one connection may send. */
export interface ServerLimits {
  /** The per-connection token bucket (`rateLimit` option), or false when the server has none. */
  readonly rateLimit: { readonly perSecond: number, readonly burst: number, readonly closeAfter: number } | false
  /**
   * `join_room` frames a connection may send beyond the bucket, once per connection: room for
   * re-joining every room at once after a reconnect. Equals `maxRoomsPerConnection`.
   */
  readonly joinAllowance: number
  readonly maxRoomsPerConnection: number
  /** Largest frame in bytes (`maxPayload`). */
  readonly maxPayload: number
}

const RETRY_AFTER = /retry after (\d+) ms/

/** The close reason of a rate close: human-readable, and carries the delay a client must wait. */
export function retryAfterReason (what: string, ms: number): string {
  return `${what}; retry after ${Math.ceil(ms)} ms`
}

/** The delay a close reason asks for (`… retry after 2500 ms`), if any. */
export function retryAfterMs (reason: string): number | undefined {
  const match = RETRY_AFTER.exec(reason)
  return match === null ? undefined : Number(match[1])
}
