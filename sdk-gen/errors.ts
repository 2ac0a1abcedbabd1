/** Errors of `npm run sdk`: a stable code plus a message that says what to fix. */
export type SdkErrorCode =
  | 'SDK_ERR_USAGE'
  | 'SDK_ERR_INPUT'
  | 'SDK_ERR_PARSE'
  | 'SDK_ERR_MESSAGE_NAME'
  | 'SDK_ERR_METHOD_CLASH'
  | 'SDK_ERR_DIRECTION'
  | 'SDK_ERR_UNKNOWN_REPLY'
  | 'SDK_ERR_NOT_A_WS_ROOMS_DOCUMENT'
  | 'SDK_ERR_NOT_AN_API_DOCUMENT'
  | 'SDK_ERR_OPERATION_NAME'
  | 'SDK_ERR_NAME_CLASH'
  | 'SDK_ERR_MISSING_DEPENDENCY'
  | 'SDK_ERR_TYPESCRIPT'
  | 'SDK_ERR_PACKAGE_NAME'
  | 'SDK_ERR_OUTPUT'
  | 'SDK_ERR_BUILD'

export class SdkGenError extends Error {
  override name = 'SdkGenError'
  constructor (
    readonly code: SdkErrorCode | string,
    message: string,
    /** Parser diagnostics, one formatted line each (for SDK_ERR_PARSE). */
    readonly diagnostics: string[] = [],
  ) {
    super(message)
  }
}
