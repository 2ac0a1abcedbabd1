/**
 * Errors the client rejects with. Each is its own class, so apps branch with `instanceof`
 * (or on `name`), and the server's error `code` travels as data.
 */

/** Base class of every error the client produces. */
export class RealtimeError extends Error {
  override name = 'RealtimeError'
}

/** The server answered a request with an `error` frame. */
export class ServerError<Code extends string = string> extends RealtimeError {
  override name = 'ServerError'
  constructor (
    /** The server's error code (see `errorCodes`). */
    readonly code: Code,
    message: string,
    /** The wire type of the request that failed. */
    readonly requestType: string,
    /** Failing paths, for `invalid_message`. */
    readonly details?: ReadonlyArray<{ readonly path: string, readonly message: string }>,
  ) {
    super(message)
  }
}

/** No reply arrived within the request timeout. The request may still have been processed. */
export class RequestTimeoutError extends RealtimeError {
  override name = 'RequestTimeoutError'
  constructor (readonly requestType: string, readonly timeoutMs: number) {
    super(`No reply to "${requestType}" within ${timeoutMs} ms`)
  }
}

/**
 * The connection dropped while the request was in flight: it may or may not have been processed.
 * The client is reconnecting (unless the close was terminal); retry if the request is idempotent.
 */
export class DisconnectedError extends RealtimeError {
  override name = 'DisconnectedError'
  constructor (readonly requestType: string, readonly code: number, readonly reason: string) {
    super(`Connection closed (${code}${reason === '' ? '' : ' ' + reason}) before "${requestType}" was answered`)
  }
}

/** The offline queue is full: the send was refused at once, nothing was queued. */
export class QueueFullError extends RealtimeError {
  override name = 'QueueFullError'
  constructor (readonly requestType: string, readonly queueSize: number) {
    super(`Offline queue is full (${queueSize} sends waiting): "${requestType}" was not sent`)
  }
}

/**
 * The send waited in the offline queue for a connection longer than its queue timeout and was
 * dropped unsent: the server never saw it, so sending it again cannot duplicate it.
 */
export class QueueTimeoutError extends RealtimeError {
  override name = 'QueueTimeoutError'
  constructor (readonly requestType: string, readonly timeoutMs: number) {
    super(`No connection within ${timeoutMs} ms: "${requestType}" was not sent`)
  }
}

/** The client is closed (by `close()`, a terminal close code, or an authentication failure). */
export class ClientClosedError extends RealtimeError {
  override name = 'ClientClosedError'
  constructor (readonly requestType: string, readonly state: string) {
    super(`Client is ${state}: "${requestType}" was not sent`)
  }
}
