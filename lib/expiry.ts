/** Token expiry: a connection is closed when its token expires, unless a refresh moves the deadline. */
import { CloseCode } from './protocol/codes.js'
import type { Connection } from './connection.js'

const MAX_TIMER_MS = 2 ** 31 - 1

export type Disconnect = (connection: Connection, code: number, reason: string) => void

/** Close the connection at `expiresAt` (none: never), replacing any earlier deadline. */
export function setExpiry (connection: Connection, expiresAt: number | undefined, disconnect: Disconnect): void {
  clearTimeout(connection.expiryTimer)
  connection.expiryTimer = undefined
  connection.expiresAt = expiresAt
  // A refresh that finished after the connection closed must not arm a timer that holds it.
  if (expiresAt === undefined || connection.closed) return
  const arm = (): void => {
    const delay = expiresAt - Date.now()
    if (delay <= 0) {
      disconnect(connection, CloseCode.Unauthorized, 'Token expired')
      return
    }
    // setTimeout fires at once past 2^31-1 ms: re-arm in steps for far-off expiries.
    connection.expiryTimer = setTimeout(arm, Math.min(delay, MAX_TIMER_MS))
    connection.expiryTimer.unref()
  }
  arm()
}

export function stopExpiry (connection: Connection): void {
  clearTimeout(connection.expiryTimer)
}
