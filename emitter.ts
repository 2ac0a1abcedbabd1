/**
 * `fastify-ws-rooms/emitter`: publish into rooms and to users, and control users' connections,
 * from a process with no WebSocket server (a worker, a cron job), through the servers' Redis.
 * Needs only ioredis next to this package: no Fastify, no `ws` is loaded.
 *
 *   import { WsEmitter } from 'fastify-ws-rooms/emitter'
 *   const emitter = new WsEmitter({ url: process.env.REDIS_URL, protocol })
 *   await emitter.broadcast('general', 'reaction', { userId: 'bot', seq: 1, emoji: '👍' })
 */
export { WsEmitter, type WsEmitterOptions } from './lib/emitter.js'
export type { ControlTarget, WsControl } from './lib/control.js'
export type { BroadcastOptions, ServerPayload } from './lib/define.js'
