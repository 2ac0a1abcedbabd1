/**
 * The one table of error codes and close codes.
 *
 * The server answers with these, the AsyncAPI document publishes them (`x-error-codes`,
 * `x-close-codes`), and the generated client decides from `reconnect` whether to retry.
 * Browser-safe: no Node imports.
 */

/** Codes carried by `error` frames. An error frame never closes the connection by itself. */
export const errorCodes = {
  invalid_frame: 'The frame is not a JSON object in a text frame (not JSON, not an object, or binary).',
  invalid_message: 'The frame breaks the schema of its message type; `details` lists the failing paths.',
  unknown_type: 'No handler is declared for this message type.',
  not_in_room: 'The connection must join the room before sending to it.',
  forbidden: 'The app refused the request (for example `authorizeJoin` or `authorizePublish` said no, or a refreshed token names another user).',
  unauthorized: 'The token in `refresh_token` did not verify (bad signature, malformed or expired).',
  rate_limited: 'Too many frames: this one was not processed. Slow down (the limits are in `x-limits`); flooding on closes the connection with 4029.',
  room_limit: 'The connection is already in the maximum number of rooms.',
  internal_error: 'A handler failed on the server. The request was not completed; nothing else is affected.',
  handler_timeout: 'The handler did not finish within its time limit; its result is discarded (it may still take effect). The connection processes the next frames.',
  unavailable: 'The cluster backend (Redis) is unreachable: a durable message cannot be sequenced, so it was not sent. Retry later.',
} as const

export type ErrorCode = keyof typeof errorCodes

export interface CloseCodeInfo {
  /** Stable machine name. */
  readonly name: string
  /** Whether a client should reconnect (with backoff) after this close. */
  readonly reconnect: boolean
  readonly description: string
}

/** Close codes the server uses, with the client's expected reaction. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  InvalidFramePayload: 1007,
  MessageTooBig: 1009,
  InternalError: 1011,
  TryAgainLater: 1013,
  Unauthorized: 4001,
  ConnectionRefused: 4003,
  TooManyUserConnections: 4008,
  Disconnected: 4009,
  RateLimited: 4029,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

export const closeCodes: Readonly<Record<CloseCode, CloseCodeInfo>> = {
  1000: { name: 'normal', reconnect: false, description: 'Closed normally at one side\'s request.' },
  1001: { name: 'going_away', reconnect: true, description: 'The server is shutting down or restarting (`app.close()`); reconnect with backoff.' },
  1002: { name: 'protocol_error', reconnect: true, description: 'The client broke the WebSocket framing protocol (closed by the WebSocket layer); the offending frame is lost.' },
  1007: { name: 'invalid_payload', reconnect: true, description: 'A text frame was not valid UTF-8 (closed by the WebSocket layer).' },
  1009: { name: 'message_too_big', reconnect: true, description: 'A frame exceeded the configured maximum size (`maxPayload`); the offending frame is lost.' },
  1011: { name: 'internal_error', reconnect: true, description: 'The server hit an unexpected condition on this connection.' },
  1013: { name: 'try_again_later', reconnect: true, description: 'The server is overloaded: connection cap reached, or this client read too slowly (slow consumer). Reconnect with backoff.' },
  4001: { name: 'unauthorized', reconnect: false, description: 'Authentication failed: token missing, malformed, badly signed or expired. Get a fresh token before trying again.' },
  4003: { name: 'connection_refused', reconnect: false, description: 'The app refused the connection (an `onConnect` hook threw a `WsError`); the reason is `<code>: <message>`.' },
  4008: { name: 'too_many_connections', reconnect: false, description: 'The user already holds the maximum number of connections (`maxConnectionsPerUser`).' },
  4009: { name: 'disconnected', reconnect: false, description: 'The app disconnected this user or connection (`app.ws.disconnect`: a ban, a password change, a revoked token); the close reason says why. Do not reconnect until the app decides to.' },
  4029: { name: 'rate_limited', reconnect: true, description: 'The client kept sending over the rate limit (repeated `rate_limited` errors, or more than 1024 frames queued behind a running handler). Reconnect, but not before the delay the reason names (`…; retry after <ms> ms`), and send within `x-limits`.' },
}

/**
 * Close codes a client sees but the server never sends: the client records them itself.
 * They are not in `closeCodes` (the document publishes what the server does).
 */
export const ClientCloseCode = {
  /** The connection ended without a closing handshake (network loss, or the client gave up on it). */
  Abnormal: 1006,
  /** Sent by a client that gives up on a silent connection and cannot drop it outright. */
  Abandoned: 4000,
} as const

/** True when a client should try again after the server closed with `code`. Unknown codes: reconnect. */
export function shouldReconnect (code: number): boolean {
  const info = (closeCodes as Record<number, CloseCodeInfo | undefined>)[code]
  return info === undefined ? true : info.reconnect
}
