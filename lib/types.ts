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
  errors: Partial<Record<WsErrorCode, number>>
  adapter: Record<string, unknown> | undefined
}
