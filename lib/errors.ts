import type { ErrorCode } from './protocol/codes.js'
import type { AppErrorCode } from './register.js'

/** A built-in error code, or one the registered protocol declares with `.error()`. */
export type WsErrorCode = ErrorCode | AppErrorCode

/**
 * A failure that reaches the client as an `error` frame with a documented code. Throw it from
 * handlers and hooks. App codes type-check once the protocol is registered (see `Register`); a
 * code the protocol does not declare is logged and answered as `internal_error`.
 */
export class WsError extends Error {
  readonly code: WsErrorCode
  readonly details: ReadonlyArray<{ path: string, message: string }> | undefined

  constructor (code: WsErrorCode, message: string, details?: ReadonlyArray<{ path: string, message: string }>) {
    super(message)
    this.name = 'WsError'
    this.code = code
    this.details = details
  }
}

/** Registration-time misconfiguration. `code` is stable (`WS_ERR_*`) and the message names the option. */
export class WsRegistrationError extends Error {
  readonly code: string
  constructor (code: `WS_ERR_${string}`, message: string) {
    super(message)
    this.name = 'WsRegistrationError'
    this.code = code
  }
}

export function invalidOption (option: string, expected: string, got: unknown): WsRegistrationError {
  return new WsRegistrationError('WS_ERR_INVALID_OPTION',
    `Option "${option}" must be ${expected}; got ${describe(got)}`)
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}
