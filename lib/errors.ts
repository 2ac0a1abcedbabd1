import type { ErrorCode } from './protocol/codes.js'

/** A failure that reaches the client as an `error` frame with a documented code. Throw it from handlers. */
export class WsError extends Error {
  readonly code: ErrorCode
  readonly details: ReadonlyArray<{ path: string, message: string }> | undefined

  constructor (code: ErrorCode, message: string, details?: ReadonlyArray<{ path: string, message: string }>) {
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
