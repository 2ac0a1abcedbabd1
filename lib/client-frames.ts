/**
 * Client frames as the server reads them: the protocol's strict envelope parse, then, as Fastify
 * does for request bodies, a scan for prototype keys (a handler that merges a payload must not be
 * handed a prototype). The scan uses `secure-json-parse`, so it stays out of the browser-safe
 * protocol module.
 */
import secureJson from 'secure-json-parse'
import { parseClientFrame as parseEnvelope, type ParseResult } from './protocol/parse.js'

export type { FrameIssue, ParseResult } from './protocol/parse.js'
export type { ClientFrame } from './protocol/envelope.js'

export function parseClientFrame (text: string): ParseResult {
  const result = parseEnvelope(text)
  // Keys may be spelled with JSON escapes (`\u005f_proto__`): scan those frames too.
  if (!result.ok || (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u'))) return result
  try {
    secureJson.scan(JSON.parse(text), { protoAction: 'error', constructorAction: 'error' })
  } catch {
    return { ok: false, issue: { code: 'invalid_message', message: 'Frame contains a forbidden "__proto__" or "constructor.prototype" key', id: result.frame.id } }
  }
  return result
}
