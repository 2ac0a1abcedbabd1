/** Environment of the example server, read in one place. */
import { fileURLToPath } from 'node:url'
import { DEV_JWT_SECRET } from './app.js'

/** `CHAT_DB_FILE` unset: the SQLite file next to the example (data/ is gitignored). */
export const DEFAULT_DB_FILE = fileURLToPath(new URL('./data/chat.db', import.meta.url))

export interface ChatConfig {
  host: string
  port: number
  jwtSecret: string
  usingDevSecret: boolean
  /** `REDIS_URL`: share rooms with other instances through Redis; unset, one process (memory adapter). */
  redisUrl: string | undefined
  /** `DATABASE_URL`: store messages in this PostgreSQL (instances using it share one history); unset, in `dbFile`. */
  databaseUrl: string | undefined
  /** `CHAT_DB_FILE`: the SQLite file messages are stored in when `DATABASE_URL` is unset. @default examples/chat/data/chat.db */
  dbFile: string
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
    databaseUrl: env.DATABASE_URL !== undefined && env.DATABASE_URL !== '' ? env.DATABASE_URL : undefined,
    dbFile: env.CHAT_DB_FILE !== undefined && env.CHAT_DB_FILE !== '' ? env.CHAT_DB_FILE : DEFAULT_DB_FILE,
  }
}
