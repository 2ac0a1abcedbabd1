/**
 * Development-mode validation of outgoing frames (option `validateOutgoing`): every payload the
 * server sends is checked against its declared schema before it is encoded, so a handler or an
 * `app.ws.broadcast` written in plain JavaScript cannot put on the wire what the AsyncAPI document
 * (and the generated client's types) say cannot be there. Compiled once per type, on first use.
 */
import { Compile } from 'typebox/compile'
import type { Catalog } from './catalog.js'

export type OutgoingCheck = (type: string, payload: unknown) => void

const MAX_REPORTED_ISSUES = 5

/** Thrown (to the code that tried to send) when an outgoing payload breaks its schema: a bug in the app. */
export class WsOutgoingFrameError extends TypeError {
  readonly code = 'WS_ERR_INVALID_OUTGOING_FRAME'
  constructor (readonly type: string, readonly issues: ReadonlyArray<{ path: string, message: string }>) {
    super(`The server tried to send a "${type}" payload that breaks its schema: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`)
    this.name = 'WsOutgoingFrameError'
  }
}

export function createOutgoingCheck (catalog: Catalog): OutgoingCheck {
  const validators = new Map<string, ReturnType<typeof Compile>>()
  return (type, payload) => {
    // Not JSON at all: the encoder refuses it with its own, clearer error (WS_ERR_INVALID_PAYLOAD).
    if (payload === undefined || typeof payload === 'function' || typeof payload === 'symbol') return
    // Its wire form is whatever its `toJSON` returns; checking that would encode it twice.
    if (typeof (payload as { toJSON?: unknown }).toJSON === 'function') return
    let validator = validators.get(type)
    if (validator === undefined) {
      const def = catalog.server.get(type)
      if (def === undefined) return // unknown types are refused where they are named (Delivery.declared)
      validators.set(type, validator = Compile(def.payload))
    }
    if (validator.Check(payload)) return
    const issues: Array<{ path: string, message: string }> = []
    for (const error of validator.Errors(payload)) {
      issues.push({ path: '/payload' + error.instancePath, message: error.message })
      if (issues.length === MAX_REPORTED_ISSUES) break
    }
    throw new WsOutgoingFrameError(type, issues)
  }
}
