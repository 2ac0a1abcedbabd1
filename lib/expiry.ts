/** Token expiry: a connection is closed when its token expires, unless a refresh moves the deadline. */
import { CloseCode } from './protocol/codes.js'
import type { Connection } from './connection.js'

const MAX_TIMER_MS = 2 ** 31 - 1

export type Disconnect = (connection: Connection, code: number, reason: string) => void

/**
 * Close the connection at `expiresAt` (none: never), replacing any earlier deadline. A deadline
 * further off than `horizonMs` gets no timer yet (a Node timer and its arguments are ~0.2 KB per
 * idle connection, and tokens usually live for many heartbeats): the heartbeat sweep arms it once
 * it comes within reach (`armIfDue`). `horizonMs` 0 (no heartbeat): armed at once.
 */
export function setExpiry (connection: Connection, expiresAt: number | undefined, disconnect: Disconnect, horizonMs: number): void {
  clearTimeout(connection.expiryTimer)
  connection.expiryTimer = undefined
  connection.expiresAt = expiresAt
  // A refresh that finished after the connection closed must not arm a timer that holds it.
  if (expiresAt === undefined || connection.closed) return
  if (horizonMs > 0 && expiresAt - Date.now() > horizonMs) return
  arm(connection, disconnect)
}

/** From the heartbeat sweep: arm the timer of a deadline that came within `horizonMs`. */
export function armIfDue (connection: Connection, disconnect: Disconnect, horizonMs: number, now: number): void {
  if (connection.expiryTimer !== undefined || connection.expiresAt === undefined || connection.closed) return
  if (connection.expiresAt - now <= horizonMs) arm(connection, disconnect)
}

/** Not a closure per connection: the timer holds only its arguments. Reads the current deadline. */
function arm (connection: Connection, disconnect: Disconnect): void {
  const delay = connection.expiresAt! - Date.now()
  if (delay <= 0) {
    connection.expiryTimer = undefined
    disconnect(connection, CloseCode.Unauthorized, 'Token expired')
    return
  }
  // setTimeout fires at once past 2^31-1 ms: re-arm in steps for far-off expiries.
  connection.expiryTimer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS), connection, disconnect)
  connection.expiryTimer.unref()
}

export function stopExpiry (connection: Connection): void {
  clearTimeout(connection.expiryTimer)
}
