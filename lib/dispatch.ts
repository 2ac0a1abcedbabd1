/**
 * Incoming frames: rate limit → parse → look up → validate → handler → exactly one reply.
 * Frames of one connection are processed in order: while a handler is pending, later frames wait.
 * One exception keeps that order while saving a round trip per frame: a built-in handler marked
 * `pipelined` (see handler.ts) may start while the connection's previous pipelined ones are in
 * flight — their effects take place in frame order, their replies are chained to leave in frame
 * order, and any other frame waits for all of them.
 * Hooks that must run before every client message (built-ins included) belong in `processFrame`,
 * between validation and `route.run`; a frame answered out of band (a `ping` while a handler runs)
 * is decided in `onFrame`, before the busy check.
 */
import type { Catalog } from './catalog.js'
import { CloseCode, type ErrorCode } from './protocol/codes.js'
import type { Connection } from './connection.js'
import type { HandlerContext } from './define.js'
import { WsError } from './errors.js'
import { isPromise } from './adapter.js'
import { REPLIED, type BuiltinHandler, type InternalHandler } from './handler.js'
import type { ResolvedOptions } from './options.js'
import { parseClientFrame } from './client-frames.js'

/** Frames a connection may have waiting behind a running handler before it counts as flooding. */
const MAX_BACKLOG = 1024

interface Route {
  readonly type: string
  readonly reply: string | undefined
  readonly validate: (payload: unknown) => Array<{ path: string, message: string }> | undefined
  readonly run: InternalHandler
  /** May start while the connection's previous pipelined frames are in flight (see above). */
  readonly pipelined: boolean
}

/** What the dispatcher needs from the server; the hub provides it. */
export interface DispatchHost {
  /** Shutting down: frames queued behind a running handler are not started. */
  readonly closing: boolean
  countIn(): void
  /** A valid frame of a declared client message type is about to run (counted once, by type). */
  countType(type: string): void
  disconnect(connection: Connection, code: number, reason: string): void
  send(connection: Connection, type: string, payload: unknown, id?: string): void
  sendError(connection: Connection, code: ErrorCode, message: string, id: string | undefined, details?: ReadonlyArray<{ path: string, message: string }>): void
  /** A handler started / settled (shutdown waits for the running ones). */
  handlerStarted(): void
  handlerDone(): void
  /** The context an app handler receives for this connection. */
  contextFor(connection: Connection): HandlerContext<any>
}

export interface Dispatcher {
  /** A frame arrived on the connection. */
  onFrame(connection: Connection, data: Buffer, isBinary: boolean): void
  /** Process frames that waited while the connection was busy (e.g. before its greeting). */
  drain(connection: Connection): void
}

export function createDispatcher (
  host: DispatchHost,
  catalog: Catalog,
  builtins: Record<string, BuiltinHandler>,
  rateLimit: ResolvedOptions['rateLimit'],
): Dispatcher {
  const routes = new Map<string, Route>()
  for (const [type, compiled] of catalog.client) {
    const appHandler = compiled.def.handler
    const builtin = appHandler === undefined ? builtins[type] : undefined
    const run: InternalHandler | undefined = appHandler === undefined
      ? builtin?.run
      : (connection, payload) => appHandler(host.contextFor(connection), payload)
    if (run === undefined) throw new Error(`No handler for built-in message "${type}"`)
    routes.set(type, { type, reply: compiled.def.reply, validate: compiled.validate, run, pipelined: builtin?.pipelined === true })
  }

  function onFrame (connection: Connection, data: Buffer, isBinary: boolean): void {
    if (connection.closed) return
    host.countIn()
    if (connection.bucket !== undefined && !connection.bucket.take(Date.now())) {
      if (rateLimit !== false && ++connection.rateWarnings >= rateLimit.closeAfter) {
        connection.log.warn('closing flooding connection')
        host.disconnect(connection, CloseCode.PolicyViolation, 'Rate limit exceeded repeatedly')
        return
      }
      host.sendError(connection, 'rate_limited', 'Too many messages: this one was not processed', isBinary ? undefined : peekId(data))
      return
    }
    connection.rateWarnings = 0
    if (connection.busy) {
      if (connection.backlog.length >= MAX_BACKLOG) {
        host.disconnect(connection, CloseCode.PolicyViolation, 'Too many pending requests')
        return
      }
      connection.backlog.push({ data, isBinary })
      return
    }
    processFrame(connection, data, isBinary)
  }

  function processFrame (connection: Connection, data: Buffer, isBinary: boolean): void {
    const behindPipeline = connection.pipelined > 0
    if (isBinary) {
      if (behindPipeline) return waitForPipeline(connection, data, isBinary)
      host.sendError(connection, 'invalid_frame', 'Binary frames are not supported: send JSON text frames', undefined)
      return
    }
    const parsed = parseClientFrame(data.toString())
    if (!parsed.ok) {
      if (behindPipeline) return waitForPipeline(connection, data, isBinary)
      const { code, message, id, details } = parsed.issue
      host.sendError(connection, code, message, id, details)
      return
    }
    const { type, id, payload } = parsed.frame
    const route = routes.get(type)
    if (route === undefined) {
      if (behindPipeline) return waitForPipeline(connection, data, isBinary)
      host.sendError(connection, 'unknown_type', `Unknown message type "${type.slice(0, 64)}"`, id)
      return
    }
    const issues = route.validate(payload)
    if (issues !== undefined) {
      if (behindPipeline) return waitForPipeline(connection, data, isBinary)
      host.sendError(connection, 'invalid_message', `Invalid "${type}" payload`, id, issues)
      return
    }
    if (route.pipelined) {
      host.countType(type)
      return runPipelined(connection, route, id, payload)
    }
    if (behindPipeline) return waitForPipeline(connection, data, isBinary)
    host.countType(type)
    let result: unknown
    try {
      result = route.run(connection, payload, id)
    } catch (err) {
      fail(connection, route, id, err)
      return
    }
    if (!isPromise(result)) {
      finish(connection, route, id, result)
      return
    }
    connection.busy = true
    host.handlerStarted()
    result.then(
      (value) => finish(connection, route, id, value),
      (err: unknown) => fail(connection, route, id, err),
    ).catch((err: unknown) => {
      connection.log.error({ err, messageType: route.type, requestId: id }, 'answering a request failed')
    }).finally(() => {
      host.handlerDone()
      connection.busy = false
      drain(connection)
    })
  }

  /** A frame that must not start before the pipelined ones: first in line once they are done. */
  function waitForPipeline (connection: Connection, data: Buffer, isBinary: boolean): void {
    connection.busy = true
    connection.backlog.unshift({ data, isBinary })
  }

  function runPipelined (connection: Connection, route: Route, id: string | undefined, payload: unknown): void {
    if (connection.pipelined >= MAX_BACKLOG) {
      host.disconnect(connection, CloseCode.PolicyViolation, 'Too many pending requests')
      return
    }
    const first = connection.pipelined === 0
    let result: unknown
    try {
      result = route.run(connection, payload, id)
    } catch (err) {
      if (first) return fail(connection, route, id, err)
      result = Promise.reject(err)
    }
    if (!isPromise(result)) {
      if (first) return finish(connection, route, id, result)
      result = Promise.resolve(result)
    }
    connection.pipelined++
    host.handlerStarted()
    const settled = (result as Promise<unknown>).then(
      (value) => () => finish(connection, route, id, value),
      (err: unknown) => () => fail(connection, route, id, err),
    )
    // Each reply waits for the previous one: replies leave in frame order.
    const previous = connection.lastReply
    const reply = (previous === undefined ? settled : previous.then(async () => settled)).then((send) => send())
    connection.lastReply = reply
    const done = (): void => {
      host.handlerDone()
      if (--connection.pipelined > 0) return
      connection.lastReply = undefined
      // A frame that waited for the pipeline (waitForPipeline) goes now.
      connection.busy = false
      drain(connection)
    }
    reply.then(done, done)
  }

  function drain (connection: Connection): void {
    // Shutting down waits for handlers in flight, not for frames queued behind them: starting
    // those now would only produce replies the closing socket cannot carry.
    while (!connection.busy && !connection.closed && !host.closing && connection.backlog.length > 0) {
      const next = connection.backlog.shift()!
      processFrame(connection, next.data, next.isBinary)
    }
  }

  function finish (connection: Connection, route: Route, id: string | undefined, value: unknown): void {
    if (connection.closed || value === REPLIED) return
    if (route.reply === undefined) {
      if (id !== undefined) host.send(connection, 'ack', {}, id)
      return
    }
    if (value === undefined || value === null) {
      fail(connection, route, id, new Error(`Handler of "${route.type}" declares reply "${route.reply}" but returned nothing`))
      return
    }
    try {
      host.send(connection, route.reply, value, id)
    } catch (err) {
      // The handler returned something JSON cannot encode (a bigint, a cycle…): its bug, this request's error.
      fail(connection, route, id, err)
    }
  }

  function fail (connection: Connection, route: Route, id: string | undefined, err: unknown): void {
    const expected = err instanceof WsError
    // A bug is logged even when its client has gone meanwhile; only the reply is moot then.
    if (!expected) connection.log.error({ err, messageType: route.type, requestId: id }, 'message handler failed')
    if (connection.closed) return
    if (expected) host.sendError(connection, err.code, err.message, id, err.details)
    else host.sendError(connection, 'internal_error', 'Internal error', id)
  }

  return { onFrame, drain }
}

const ID_NEAR_START = /"id"\s*:\s*("(?:[^"\\]|\\.){1,64}")/

/**
 * The `id` of a frame refused by the rate limit, so the client can match the error to its request.
 * A flooder must not make the server parse every refused frame: only its first bytes are scanned
 * (clients put `id` before `payload`, as the envelope order suggests).
 */
function peekId (data: Buffer): string | undefined {
  const match = ID_NEAR_START.exec(data.toString('utf8', 0, Math.min(data.length, 256)))
  if (match === null) return undefined
  try {
    const id: unknown = JSON.parse(match[1]!)
    return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined
  } catch {
    return undefined
  }
}
