/**
 * The error and close codes of `lib/protocol/codes.ts` (the one table), as document extensions and as
 * markdown prose for `info.description`.
 */
import { closeCodes, type CloseCodeInfo } from '../protocol/codes.js'

/** Error code → meaning: the catalog's table (built-in codes, then the app's). */
export type ErrorCodeTable = Readonly<Record<string, string>>

export function errorCodesExtension (errorCodes: ErrorCodeTable): Record<string, { description: string }> {
  const out: Record<string, { description: string }> = {}
  for (const [code, description] of Object.entries(errorCodes)) out[code] = { description }
  return out
}

export function closeCodesExtension (): Record<string, { name: string, reconnect: boolean, description: string }> {
  const out: Record<string, { name: string, reconnect: boolean, description: string }> = {}
  for (const [code, info] of Object.entries(closeCodes) as Array<[string, CloseCodeInfo]>) {
    out[code] = { name: info.name, reconnect: info.reconnect, description: info.description }
  }
  return out
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

export function codesMarkdown (errorCodes: ErrorCodeTable): string {
  const lines = [
    '### Error codes',
    '',
    '`error` frames carry `payload.code`, one of these. An error never closes the connection by itself.',
    '',
    '| code | meaning |',
    '| --- | --- |',
  ]
  for (const [code, description] of Object.entries(errorCodes)) lines.push(`| \`${code}\` | ${cell(description)} |`)
  lines.push(
    '',
    '### Close codes',
    '',
    'WebSocket close codes the server uses, and whether a client should reconnect (with backoff) or stop.',
    '',
    '| code | name | client should | meaning |',
    '| --- | --- | --- | --- |',
  )
  for (const [code, info] of Object.entries(closeCodes) as Array<[string, CloseCodeInfo]>) {
    lines.push(`| ${code} | \`${info.name}\` | ${info.reconnect ? 'reconnect' : 'stop'} | ${cell(info.description)} |`)
  }
  return lines.join('\n')
}

/** Component name of the error code enum. */
export const ERROR_CODE_SCHEMA = 'ErrorCode'

/** `payload.code` of `error` frames: an enum of the table, so generated types know every code. */
export function errorCodeSchema (errorCodes: ErrorCodeTable): { title: string, type: 'string', enum: string[], description: string } {
  return { title: ERROR_CODE_SCHEMA, type: 'string', enum: Object.keys(errorCodes), description: 'One of the documented error codes (`x-error-codes`).' }
}
