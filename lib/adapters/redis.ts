/**
 * The Redis adapter: any number of instances share rooms, presence, user-targeted messages, `seq`
 * and history through one Redis (ioredis). It is `ClusterAdapter` over `RedisBackend`:
 *
 * - A durable room frame is one Lua step (INCR seq, XADD history, PUBLISH), so every instance —
 *   the origin too — receives a room's frames in `seq` order from pub/sub and delivers them.
 * - Presence: per-room hashes plus, per instance, the set of (room, user, connection) it holds and
 *   a heartbeat in a sorted set; survivors reap an instance whose heartbeat is older than
 *   `instanceTimeoutMs` and announce `user_left` for users that leave with it.
 * - Outage: commands fail fast (no offline queue) and the instance serves its local clients (see
 *   README "Redis outage"); clients reconnect by themselves; presence is resynchronised and missed
 *   durable frames are fetched from history when Redis returns.
 */
import { ClusterAdapter } from './cluster.js'
import { RedisBackend, redactUrl } from './redis-backend.js'
import { resolveRedisOptions, type RedisAdapterOptions } from './redis-options.js'

export { defaultRedisRetryStrategy, type RedisAdapterOptions } from './redis-options.js'

export class RedisAdapter extends ClusterAdapter {
  constructor (options: RedisAdapterOptions = {}) {
    const resolved = resolveRedisOptions(options)
    super(new RedisBackend(resolved), resolved, { url: redactUrl(resolved.url) })
  }
}
