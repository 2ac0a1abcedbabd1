/**
 * Incoming frames: rate limit → parse → look up → validate → handler → exactly one reply.
 * Frames of one connection are processed in order: while a handler is pending, later frames wait.
 * One exception keeps that order while saving a round trip per frame: a built-in handler marked
 * `pipelined` (see handler.ts) may start while the connection's previous pipelined ones are in
 * flight — their effects take place in frame order, their replies are chained to leave in frame
 * order, and any other frame waits for all of them.
 * The app's `preHandler` hooks wrap `route.run` once the app is ready (`applyHooks`): without
 * hooks, the frame path is untouched. A `ping` is answered out of band, at once, even while a
 * handler runs (liveness is not stuck behind work), decided in `onFrame` before the busy check; a
 * handler that runs past its timeout gets its request answered `handler_timeout`, and the
 * connection moves on (handler-timeout.ts).
 */
import type { Catalog } from './catalog.js'
import { CloseCode } from './protocol/codes.js'
import type { Connection } from './connection.js'
import type { HandlerContext } from './define.js'
import { WsError, type WsErrorCode } from './errors.js'
import { isPromise } from './adapter.js'
import { REPLIED, type BuiltinHandler, type InternalHandler } from './handler.js'
import { settleWithin } from './handler-timeout.js'
import type { ResolvedOptions } from './options.js'
import { parseClientFrame } from './client-frames.js'
import { isJoin, peekId } from './frame-peek.js'
import { retryAfterReason } from './protocol/limits.js'
import { ClientMessage, ServerMessage } from './protocol/names.js'

/** Frames a connection may have waiting behind a running handler before it counts as flooding. */
const MAX_BACKLOG = 1024
/** Without a rate limit, how long a client closed for an overflowing backlog waits before reconnecting. */
const BACKLOG_RETRY_MS = 1000

export interface Route {
  readonly type: string
  readonly reply: string | undefined
  readonly validate: (payload: unknown) => Array<{ path: string, message: string }> | undefined
  readonly run: InternalHandler
  /** May start while the connection's previous pipelined frames are in flight (see above). */
  readonly pipelined: boolean
  /** How long its handler may run before the request is answered `handler_timeout` (0: no limit). */
  readonly timeoutMs: number
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
  sendError(connection: Connection, code: WsErrorCode, message: string, id: string | undefined, details?: ReadonlyArray<{ path: string, message: string }>): void
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
  /**
   * Once hooks are fixed (app ready): wrap every handler with `wrap` when given, and stop
   * pipelining when `pipelining` is false (hooks must see a connection's frames one at a time).
   */
  applyHooks(wrap: ((route: Route) => InternalHandler) | undefined, pipelining: boolean): void
}

export function createDispatcher (
  host: DispatchHost,
  catalog: Catalog,
  builtins: Record<string, BuiltinHandler>,
  options: Pick<ResolvedOptions, 'rateLimit' | 'handlerTimeoutMs'>,
): Dispatcher {
  const rateLimit = options.rateLimit
  const routes = new Map<string, Route>()
  for (const [type, compiled] of catalog.client) {
    const appHandler = compiled.def.handler
    const builtin = appHandler === undefined ? builtins[type] : undefined
    const run: InternalHandler | undefined = appHandler === undefined
      ? builtin?.run
      : (connection, payload) => appHandler(host.contextFor(connection), payload)
    if (run === undefined) throw new Error(`No handler for built-in message "${type}"`)
    // App handlers only: a built-in answers for itself (join_room replies, then replays), and a
    // second answer after its own would break exactly-one-reply.
    const timeoutMs = appHandler === undefined ? 0 : compiled.def.timeoutMs ?? options.handlerTimeoutMs
    routes.set(type, { type, reply: compiled.def.reply, validate: compiled.validate, run, pipelined: builtin?.pipelined === true, timeoutMs })
  }
  const ping = routes.get(ClientMessage.Ping)

  function onFrame (connection: Connection, data: Buffer, isBinary: boolean): void {
    if (connection.closed) return
    host.countIn()
    const bucket = connection.bucket
    if (bucket !== undefined && bucket.joinsAllowed && isJoin(data, isBinary)) {
      bucket.takeJoin()
    } else if (bucket !== undefined && !bucket.take(Date.now())) {
      if (rateLimit !== false && ++connection.rateWarnings >= rateLimit.closeAfter) {
        connection.log.warn('closing flooding connection')
        host.disconnect(connection, CloseCode.RateLimited, retryAfterReason('Rate limit exceeded repeatedly', bucket.refillMs))
        return
      }
      host.sendError(connection, 'rate_limited', 'Too many messages: this one was not processed', isBinary ? undefined : peekId(data))
      return
    }
    connection.rateWarnings = 0
    // Behind a running handler (not behind pipelined publishes: they settle within a round trip),
    // and never before `connected`: nothing reaches a client ahead of its greeting.
    if (connection.busy && connection.greeted && answeredOutOfBand(connection, data, isBinary)) return
    if (connection.busy) {
      const backlog = (connection.backlog ??= [])
      if (backlog.length >= MAX_BACKLOG) {
        host.disconnect(connection, CloseCode.RateLimited, retryAfterReason('Too many pending requests', connection.bucket?.refillMs ?? BACKLOG_RETRY_MS))
        return
      }
      backlog.push({ data, isBinary })
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
    settleWithin(result, route.timeoutMs, {
      value: (value) => finish(connection, route, id, value),
      error: (err) => fail(connection, route, id, err),
      timedOut: () => {
        connection.log.warn({ messageType: route.type, requestId: id, timeoutMs: route.timeoutMs }, 'message handler timed out')
        if (!connection.closed) host.sendError(connection, 'handler_timeout', `The "${route.type}" handler did not finish within ${route.timeoutMs} ms`, id)
      },
      late: (err) => connection.log.error({ err, messageType: route.type, requestId: id }, 'message handler failed after its timeout'),
      free: () => {
        connection.busy = false
        drain(connection)
      },
      done: () => host.handlerDone(),
    }).catch((err: unknown) => {
      connection.log.error({ err, messageType: route.type, requestId: id }, 'answering a request failed')
    })
  }

  /** A `ping` behind a running handler is answered now: the client's heartbeat must not mistake work for a dead link. */
  function answeredOutOfBand (connection: Connection, data: Buffer, isBinary: boolean): boolean {
    if (isBinary || ping === undefined || data.length > 256 || !data.includes('"ping"')) return false
    const parsed = parseClientFrame(data.toString())
    if (!parsed.ok || parsed.frame.type !== ClientMessage.Ping || ping.validate(parsed.frame.payload) !== undefined) return false
    host.countType(ClientMessage.Ping)
    finish(connection, ping, parsed.frame.id, ping.run(connection, parsed.frame.payload, parsed.frame.id))
    return true
  }

  /** A frame that must not start before the pipelined ones: first in line once they are done. */
  function waitForPipeline (connection: Connection, data: Buffer, isBinary: boolean): void {
    connection.busy = true
    ;(connection.backlog ??= []).unshift({ data, isBinary })
  }

  function runPipelined (connection: Connection, route: Route, id: string | undefined, payload: unknown): void {
    if (connection.pipelined >= MAX_BACKLOG) {
      host.disconnect(connection, CloseCode.RateLimited, retryAfterReason('Too many pending requests', connection.bucket?.refillMs ?? BACKLOG_RETRY_MS))
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
    const backlog = connection.backlog
    if (backlog === undefined) return
    while (!connection.busy && !connection.closed && !host.closing && backlog.length > 0) {
      const next = backlog.shift()!
      processFrame(connection, next.data, next.isBinary)
    }
  }

  function finish (connection: Connection, route: Route, id: string | undefined, value: unknown): void {
    if (connection.closed || value === REPLIED) return
    if (route.reply === undefined) {
      if (id !== undefined) host.send(connection, ServerMessage.Ack, {}, id)
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

  function applyHooks (wrap: ((route: Route) => InternalHandler) | undefined, pipelining: boolean): void {
    for (const [type, route] of routes) {
      routes.set(type, { ...route, run: wrap === undefined ? route.run : wrap(route), pipelined: pipelining && route.pipelined })
    }
  }

  function fail (connection: Connection, route: Route, id: string | undefined, err: unknown): void {
    if (err instanceof WsError && !Object.hasOwn(catalog.errorCodes, err.code)) {
      connection.log.error({ err, messageType: route.type, requestId: id }, `WsError code "${err.code}" is not declared: declare it with defineProtocol().error()`)
      if (!connection.closed) host.sendError(connection, 'internal_error', 'Internal error', id)
      return
    }
    const expected = err instanceof WsError
    // A bug is logged even when its client has gone meanwhile; only the reply is moot then.
    if (!expected) connection.log.error({ err, messageType: route.type, requestId: id }, 'message handler failed')
    if (connection.closed) return
    if (expected) host.sendError(connection, err.code, err.message, id, err.details)
    else host.sendError(connection, 'internal_error', 'Internal error', id)
  }

  return { onFrame, drain, applyHooks }
}
