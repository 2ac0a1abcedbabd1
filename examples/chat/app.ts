/** The example chat server as a function, so tests and scripts build the same app `npm start` runs. */
import Fastify, { type FastifyInstance } from 'fastify'
import wsPlugin, { MemoryAdapter, type WsPluginOptions } from '../../plugin.js'
import { RedisAdapter } from '../../redis.js'
import wsDocs from '../../docs.js'
import { OPENAPI_PATH, registerChatApi, registerOpenApi } from './api.js'
import { registerModeration } from './moderation.js'
import { chatProtocol } from './protocol.js'
import { LastSeqs, loadFrom, registerMessageStorage } from './storage.js'
import { createMessageStore, type StoreConfig } from './store/index.js'

export const DEV_JWT_SECRET = 'development-secret-do-not-use-in-production'

export interface ChatAppOptions {
  jwtSecret: string
  /** Pino options, or false. (The plugin redacts `?token=` from its route's request logs.) */
  logger?: false | { level?: string }
  ws?: Omit<WsPluginOptions, 'protocol' | 'auth'>
  /** Share rooms, presence and history with other instances through this Redis. @default memory (one process) */
  redisUrl?: string
  /** Lifetime of the development sign-in's tokens (`POST /dev/token`). @default 900 */
  tokenTtlSeconds?: number
  /**
   * Where every chat message is stored (storage.ts): PostgreSQL with `databaseUrl`, else the SQLite
   * file `sqliteFile`. `npm start` passes config.ts's (`DATABASE_URL`, `CHAT_DB_FILE`).
   * @default an in-memory SQLite database (stored while the app runs, gone after it)
   */
  storage?: Partial<StoreConfig>
}

export async function buildChatApp (options: ChatAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
  })
  // The message store: its table is created now, so a database that is not there fails the start.
  const store = createMessageStore({ sqliteFile: ':memory:', onError: (err) => app.log.error({ err }, 'message store connection failed'), ...options.storage })
  app.addHook('onClose', () => store.close())
  await store.open()
  const lastSeqs = new LastSeqs()
  await lastSeqs.load(store)
  // The HTTP routes as OpenAPI (the plugin's history route included), served beside the AsyncAPI document.
  await registerOpenApi(app)
  await app.register(wsPlugin, {
    ...options.ws,
    // Older pages of history come from the store once the adapter's bounded history ends.
    history: { load: loadFrom(store) },
    // One process: its numbering of a room goes on from the stored messages after a restart.
    adapter: options.redisUrl !== undefined
      ? new RedisAdapter({ url: options.redisUrl })
      : options.ws?.adapter ?? new MemoryAdapter({ resumeSeq: (room) => lastSeqs.get(room) }),
    protocol: chatProtocol,
    auth: { secret: options.jwtSecret },
    asyncapi: { openapi: OPENAPI_PATH, ...options.ws?.asyncapi },
  })
  // The browsable protocol docs the chat page links to (needs @asyncapi/react-component).
  await app.register(wsDocs, { routePrefix: '/docs' })
  registerChatApi(app, { jwtSecret: options.jwtSecret, ...(options.tokenTtlSeconds === undefined ? {} : { tokenTtlSeconds: options.tokenTtlSeconds }) })
  await registerModeration(app)
  registerMessageStorage(app, store, lastSeqs)
  app.log.info(`messages stored in ${store.kind} (${store.location})`)
  return app
}
