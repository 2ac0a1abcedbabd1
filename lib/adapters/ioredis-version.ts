/**
 * The ioredis each mode needs. One Redis and Sentinel: 5.3.0, the first that exports `Redis` by
 * name (older ones fail as the module loads: "does not provide an export named 'Redis'"). Redis
 * Cluster: 5.9.0, whose rewritten sharded subscribers (one per master, subscribed again after a
 * failover or a slot move, `subscribersReady`) the adapter relies on; 5.6–5.8 accept the
 * `shardedSubscribers` option but lose messages and fail `test/redis-sharded.test.ts`.
 */
import { createRequire } from 'node:module'
import { WsRegistrationError } from '../errors.js'

export const MIN_IOREDIS = '5.3.0'
export const MIN_IOREDIS_CLUSTER = '5.9.0'

/** The version of the ioredis this module resolves (the one it imports). */
export function installedIoredisVersion (): string {
  return (createRequire(import.meta.url)('ioredis/package.json') as { version: string }).version
}

function isOlder (version: string, than: string): boolean {
  const parts = (text: string): number[] => text.split(/[.+-]/).slice(0, 3).map(Number)
  const [a, b] = [parts(version), parts(than)]
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0)
  return false
}

/** Refuse Redis Cluster on an ioredis too old for it, saying what to do. */
export function checkClusterSupport (version: string): void {
  if (!isOlder(version, MIN_IOREDIS_CLUSTER)) return
  throw new WsRegistrationError('WS_ERR_IOREDIS_VERSION',
    `RedisAdapter on Redis Cluster (the "clusterNodes" option) needs ioredis ${MIN_IOREDIS_CLUSTER} or newer for its sharded pub/sub subscribers; ioredis ${version} is installed: ` +
    `run \`npm install ioredis@latest\` (one Redis or Sentinel work from ${MIN_IOREDIS})`)
}
