/** Environment of the example server, read in one place. */
import { DEV_JWT_SECRET } from './app.js'

export interface ChatConfig {
  host: string
  port: number
  jwtSecret: string
  usingDevSecret: boolean
  /** `REDIS_URL`: share rooms with other instances through Redis; unset, one process (memory adapter). */
  redisUrl: string | undefined
}

export function readConfig (env: NodeJS.ProcessEnv = process.env): ChatConfig {
  const port = Number(env.PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number; got ${JSON.stringify(env.PORT)}`)
  const secret = env.JWT_SECRET
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    jwtSecret: secret !== undefined && secret !== '' ? secret : DEV_JWT_SECRET,
    usingDevSecret: secret === undefined || secret === '',
    redisUrl: env.REDIS_URL !== undefined && env.REDIS_URL !== '' ? env.REDIS_URL : undefined,
  }
}
