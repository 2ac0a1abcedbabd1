/**
 * Reconnect policies. A policy is a small stateful object owned by one client: `next()` is asked
 * after every lost connection, `opened()` is told about every successful one.
 */

export interface ReconnectStep {
  /** 1 for the first retry after a loss, then 2, 3… (reset after a stable connection). */
  readonly attempt: number
  /** How long to wait before this attempt. */
  readonly delayMs: number
}

export interface ReconnectPolicy {
  /** A connection was established (the server said `connected`). */
  opened(): void
  /** The connection was lost and may be retried: the next attempt, or `undefined` to give up. */
  next(): ReconnectStep | undefined
}

export interface BackoffOptions {
  /**
   * Ceiling of the first delay; each attempt doubles it.
   * @default 500
   */
  baseMs?: number
  /**
   * Cap of the ceiling: delays never exceed it.
   * @default 30000
   */
  maxMs?: number
  /**
   * A connection that stayed up this long counts as stable: the next loss starts over at attempt 1.
   * @default 10000
   */
  stableAfterMs?: number
  /**
   * Give up after this many attempts in a row.
   * @default Infinity
   */
  maxAttempts?: number
  /**
   * Source of randomness in [0, 1).
   * @default Math.random
   */
  random?: () => number
  /**
   * Clock in milliseconds.
   * @default Date.now
   */
  now?: () => number
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(maxMs, baseMs · 2^(n−1))). Jitter spreads a crowd of clients reconnecting after a
 * deploy; the cap bounds the wait; the counter resets after a stable connection.
 */
export function randomisedExponentialBackoff (options: BackoffOptions = {}): ReconnectPolicy {
  const baseMs = options.baseMs ?? 500
  const maxMs = options.maxMs ?? 30_000
  const stableAfterMs = options.stableAfterMs ?? 10_000
  const maxAttempts = options.maxAttempts ?? Infinity
  const random = options.random ?? Math.random
  const now = options.now ?? Date.now
  let attempt = 0
  let openedAt: number | undefined
  return {
    opened () {
      openedAt = now()
    },
    next () {
      if (openedAt !== undefined && now() - openedAt >= stableAfterMs) attempt = 0
      openedAt = undefined
      if (attempt >= maxAttempts) return undefined
      attempt++
      // 2 ** 1100 is Infinity: Math.min keeps the ceiling finite however long the outage.
      const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
      return { attempt, delayMs: Math.floor(random() * ceiling) }
    },
  }
}
