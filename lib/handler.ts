/**
 * The contract between the dispatcher and the handlers it runs. Each handler takes the connection
 * and its validated payload; a returned value is the declared reply's payload, `REPLIED` means the
 * handler answered itself.
 */
import type { Connection } from './connection.js'

export const REPLIED = Symbol('replied')

export type InternalHandler = (connection: Connection, payload: any, id: string | undefined) => unknown

/** A built-in message's handler, and how the dispatcher may schedule it. */
export interface BuiltinHandler {
  readonly run: InternalHandler
  /**
   * Its whole effect starts synchronously and takes effect in call order, so a connection's next
   * pipelined frame may start while this one is in flight (replies still leave in frame order).
   */
  readonly pipelined: boolean
}
