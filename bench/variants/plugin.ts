/**
 * This plugin as an app would run it: auth on (HS256 via @fastify/jwt), default options except
 * the per-connection rate limit (off: the publisher sends far above 20 frames/s), with the memory
 * adapter or, for multi-instance runs, the Redis adapter (on one Redis, or on Redis Cluster).
 */
import Fastify from 'fastify'
import wsPlugin from '../../plugin.js'
import type { Adapter } from '../../lib/adapter.js'
import { NotAvailable, type RunningServer, type ServerConfig } from './types.js'

export async function start (config: ServerConfig): Promise<RunningServer> {
  let adapter: Adapter | undefined
  if (config.redis !== undefined) {
    // The Redis adapter may not exist yet in this tree: then the scenario reports "not available".
    const exports = await import('../../redis.js') as Record<string, unknown>
    const RedisAdapter = exports.RedisAdapter as (new (options: { url: string, keyPrefix: string, clusterNodes?: string[] }) => Adapter) | undefined
    if (typeof RedisAdapter !== 'function') throw new NotAvailable('RedisAdapter is not exported by redis.ts')
    const { url, prefix, clusterNodes } = config.redis
    adapter = new RedisAdapter({ url, keyPrefix: prefix, ...(clusterNodes === undefined ? {} : { clusterNodes }) })
  }
  const app = Fastify({ logger: false })
  await app.register(wsPlugin, { auth: { secret: config.secret }, rateLimit: false, validateOutgoing: false, ...(adapter === undefined ? {} : { adapter }) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: () => app.ws.stats().connections,
    close: async () => { await app.close() },
  }
}
