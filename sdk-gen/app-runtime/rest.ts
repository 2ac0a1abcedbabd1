/**
 * The REST half's call path around the generated (@hey-api) operation functions: the shared
 * token (sent only to operations that declare security), one retry after a 401 with a refreshed
 * token, and failures thrown as typed errors carrying the HTTP status and the parsed body.
 */
import type { Client } from '../rest/client/index.js'
import type { TokenSource } from './token-source.js'

/** A non-2xx answer. `Status`/`Body` come from the operation's documented error responses. */
export class HttpError<Body = unknown, Status extends number = number> extends Error {
  override name = 'HttpError'
  constructor (
    /** The operation that failed (its method name). */
    readonly operation: string,
    /** The HTTP status. */
    readonly status: Status,
    /** The response body, parsed as JSON when it is JSON, else its text. */
    readonly body: Body,
    /** The raw response (headers…). */
    readonly response: Response,
  ) {
    super(`${operation}: HTTP ${status}${messageOf(body)}`)
  }
}

/** The request never got an answer (network down, CORS, DNS…). Aborts stay `AbortError`s. */
export class NetworkError extends Error {
  override name = 'NetworkError'
  constructor (readonly operation: string, readonly cause: unknown) {
    super(`${operation}: no response (${cause instanceof Error ? cause.message : String(cause)})`)
  }
}

/** Every documented error response of an operation, as a union of `HttpError`s narrowed by `status`. */
export type HttpErrorOf<Errors> = [keyof Errors & number] extends [never]
  ? HttpError
  : { [S in keyof Errors & number]: HttpError<Errors[S], S> }[keyof Errors & number]

/** What every REST method accepts besides its parameters. */
export interface CallOptions {
  /** Cancels the request: the promise rejects with the `AbortError`. */
  signal?: AbortSignal
  /** Extra request headers. */
  headers?: Record<string, string>
}

/** `path`, `query` and `body` of an operation (from its generated `…Data` type), plus `CallOptions`. */
export type CallArgs<Data> = Omit<Data, 'url'> & CallOptions

/** The argument list: optional when the operation needs nothing. */
export type ArgsOf<Data> = {} extends Omit<Data, 'url'> ? [args?: CallArgs<Data>] : [args: CallArgs<Data>]

export interface RestContext {
  readonly client: Client
  readonly tokens: TokenSource
}

interface Fields {
  data?: unknown
  error?: unknown
  response?: Response
}

type OperationFn = (options: any) => Promise<unknown>

export async function callOperation (context: RestContext, operation: string, fn: OperationFn, args: object = {}): Promise<unknown> {
  let used: string | undefined
  let authenticated = false
  let tokenFailure: { error: unknown } | undefined
  const send = (token: () => Promise<string | undefined>): Promise<Fields> => fn({
    ...args,
    client: context.client,
    throwOnError: false,
    responseStyle: 'fields',
    // Called by the generated client only for operations that declare security.
    auth: async () => {
      authenticated = true
      try {
        used = await token()
      } catch (error) {
        tokenFailure = { error }
        throw error
      }
      return used
    },
  }) as Promise<Fields>

  let result = await send(() => context.tokens.current())
  if (result.response?.status === 401 && authenticated && context.tokens.refreshable) {
    const stale = used
    result = await send(() => context.tokens.refresh(stale))
  }
  // The app's token function failed: its own error, not a network one.
  if (tokenFailure !== undefined) throw tokenFailure.error
  const response = result.response
  if (response === undefined) {
    const error = result.error
    if (error instanceof Error && error.name === 'AbortError') throw error
    throw new NetworkError(operation, error)
  }
  if (!response.ok) throw new HttpError(operation, response.status, result.error, response)
  return response.status === 204 ? undefined : result.data
}

function messageOf (body: unknown): string {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body
  return typeof message === 'string' && message !== '' ? ': ' + message.slice(0, 200) : ''
}
