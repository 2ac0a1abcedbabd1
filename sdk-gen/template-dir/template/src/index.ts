export { RealtimeClient, createClient } from './client.js'
export * from './protocol.js'
export { randomisedExponentialBackoff } from './runtime/backoff.mjs'
export type { BackoffOptions, ReconnectPolicy, ReconnectStep } from './runtime/backoff.mjs'
export { ClientClosedError, DisconnectedError, QueueFullError, QueueTimeoutError, RealtimeError, RequestTimeoutError, ServerError } from './runtime/errors.mjs'
export type {
  ClientEvents, ClientOptions, CloseInfo, ConnectionState, EventMeta, HeartbeatOptions, MessageHandler,
  RequestOptions, Session, TokenProvider, TokenRefreshOptions,
} from './runtime/core.mjs'
export type { WebSocketConstructor, WebSocketLike } from './runtime/env.mjs'
