/**
 * The protocol of fastify-ws-rooms in one browser-safe module (no Node imports, no dependencies):
 * the envelope, the built-in message names and the name rule, the error and close codes, the
 * published limits, and parse/stringify. The server, the AsyncAPI document builder and the SDK generator import it; the
 * generator copies it, unchanged but for a header, into every generated client package.
 */
export * from './envelope.js'
export * from './names.js'
export * from './codes.js'
export * from './limits.js'
export * from './parse.js'
export * from './stringify.js'
