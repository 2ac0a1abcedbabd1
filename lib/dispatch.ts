/**
 * Incoming frames: rate limit → parse → look up → validate → handler → exactly one reply.
 * Frames of one connection are processed in order: while a handler is pending, later frames wait.
 */
import type { Catalog } from './catalog.js'
import { CloseCode } from './codes.js'
import type { Connection } from './connection.js'
import { WsError } from './errors.js'
import type { Hub } from './hub.js'
import { isPromise } from './adapter.js'
import { parseClientFrame } from './protocol.js'
import { REPLIED, type InternalHandler } from './builtin-handlers.js'

/** Frames a connection may have waiting behind a running handler before it counts as flooding. */
const MAX_BACKLOG = 1024

interface Route {
  readonly type: string
  readonly reply: string | undefined
  readonly validate: (payload: unknown) => Array<{ path: string, message: string }> | undefined
  readonly run: InternalHandler
}

export type FrameHandler = (connection: Connection, data: Buffer, isBinary: boolean) => void

export function createDispatcher (hub: Hub, catalog: Catalog, builtins: Record<string, InternalHandler>): FrameHandler {
  const routes = new Map<string, Route>()
  for (const [type, compiled] of catalog.client) {
    const appHandler = compiled.def.handler
    const run: InternalHandler | undefined = appHandler === undefined
      ? builtins[type]
      : (connection, payload) => appHandler(hub.contextFor(connection), payload)
    if (run === undefined) throw new Error(`No handler for built-in message "${type}"`)
    routes.set(type, { type, reply: compiled.def.reply, validate: compiled.validate, run })
  }
  const rateLimit = hub.options.rateLimit

  function onFrame (connection: Connection, data: Buffer, isBinary: boolean): void {
    if (connection.closed) return
    hub.countIn()
    if (connection.bucket !== undefined && !connection.bucket.take(Date.now())) {
      if (rateLimit !== false && ++connection.rateWarnings >= rateLimit.closeAfter) {
        connection.log.warn('closing flooding connection')
        hub.disconnect(connection, CloseCode.PolicyViolation, 'Rate limit exceeded repeatedly')
        return
      }
      hub.sendError(connection, 'rate_limited', 'Too many messages: this one was not processed', isBinary ? undefined : peekId(data))
      return
    }
    connection.rateWarnings = 0
    if (connection.busy) {
      if (connection.backlog.length >= MAX_BACKLOG) {
        hub.disconnect(connection, CloseCode.PolicyViolation, 'Too many pending requests')
        return
      }
      connection.backlog.push({ data, isBinary })
      return
    }
    processFrame(connection, data, isBinary)
  }

  function processFrame (connection: Connection, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      hub.sendError(connection, 'invalid_frame', 'Binary frames are not supported: send JSON text frames', undefined)
      return
    }
    const parsed = parseClientFrame(data.toString())
    if (!parsed.ok) {
      const { code, message, id, details } = parsed.issue
      hub.sendError(connection, code, message, id, details)
      return
    }
    const { type, id, payload } = parsed.frame
    const route = routes.get(type)
    if (route === undefined) {
      hub.sendError(connection, 'unknown_type', `Unknown message type "${type.slice(0, 64)}"`, id)
      return
    }
    const issues = route.validate(payload)
    if (issues !== undefined) {
      hub.sendError(connection, 'invalid_message', `Invalid "${type}" payload`, id, issues)
      return
    }
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
    hub.inflight++
    result.then(
      (value) => finish(connection, route, id, value),
      (err: unknown) => fail(connection, route, id, err),
    ).finally(() => {
      hub.handlerDone()
      connection.busy = false
      drain(connection)
    })
  }

  function drain (connection: Connection): void {
    while (!connection.busy && !connection.closed && connection.backlog.length > 0) {
      const next = connection.backlog.shift()!
      processFrame(connection, next.data, next.isBinary)
    }
  }

  function finish (connection: Connection, route: Route, id: string | undefined, value: unknown): void {
    if (connection.closed || value === REPLIED) return
    if (route.reply === undefined) {
      if (id !== undefined) hub.send(connection, 'ack', {}, id)
      return
    }
    if (value === undefined || value === null) {
      fail(connection, route, id, new Error(`Handler of "${route.type}" declares reply "${route.reply}" but returned nothing`))
      return
    }
    hub.send(connection, route.reply, value, id)
  }

  function fail (connection: Connection, route: Route, id: string | undefined, err: unknown): void {
    const expected = err instanceof WsError
    // A bug is logged even when its client has gone meanwhile; only the reply is moot then.
    if (!expected) connection.log.error({ err, messageType: route.type, requestId: id }, 'message handler failed')
    if (connection.closed) return
    if (expected) hub.sendError(connection, err.code, err.message, id, err.details)
    else hub.sendError(connection, 'internal_error', 'Internal error', id)
  }

  return onFrame
}

/** The `id` of a frame refused before parsing, so the client can match the error to its request. */
function peekId (data: Buffer): string | undefined {
  try {
    const id = (JSON.parse(data.toString()) as { id?: unknown } | null)?.id
    return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined
  } catch {
    return undefined
  }
}
