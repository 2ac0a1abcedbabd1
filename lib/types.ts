/**
 * Types shared by the server modules and exported to apps. They live apart from the modules that
 * use them so that no lower layer (auth, options) has to import the hub to name a user.
 */
import type { WsErrorCode } from './errors.js'

export interface WsUser {
  readonly id: string
  readonly claims: Readonly<Record<string, unknown>>
}

export interface WsStats {
  connections: number
  users: number
  rooms: number
  messagesIn: number
  messagesOut: number
  framesDropped: number
  /** Connections closed for staying over `highWaterMark` past the grace period. */
  slowConsumerCloses: number
  errors: Partial<Record<WsErrorCode, number>>
  /** Valid frames of declared client message types, by type, as they run (refused ones are only in `messagesIn` and `errors`). */
  messagesInByType: Record<string, number>
  /** Frames written, by type; they add up to `messagesOut`. */
  messagesOutByType: Record<string, number>
  /** Joins with `since`: whether history still held every missed message. */
  recoveries: { recovered: number, notRecovered: number }
  adapter: Record<string, unknown> | undefined
}
