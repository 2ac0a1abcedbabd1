/**
 * `fastify-ws-rooms/redis`: the Redis adapter, at its own entry so that the main entry never
 * loads `ioredis` (an optional peer dependency, needed only here).
 */
export { RedisAdapter, defaultRedisRetryStrategy } from './lib/adapters/redis.js'
export type { RedisAdapterOptions } from './lib/adapters/redis.js'
