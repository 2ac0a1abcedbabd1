/** The example chat server as a function, so tests and scripts build the same app `npm start` runs. */
import Fastify, { type FastifyInstance } from 'fastify'
import wsPlugin, { type WsPluginOptions } from '../../plugin.js'
import { RedisAdapter } from '../../redis.js'
import wsDocs from '../../docs.js'
import { OPENAPI_PATH, registerChatApi, registerOpenApi } from './api.js'
import { registerModeration } from './moderation.js'
import { chatProtocol } from './protocol.js'

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
}

export async function buildChatApp (options: ChatAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
  })
  // The HTTP routes as OpenAPI (the plugin's history route included), served beside the AsyncAPI document.
  await registerOpenApi(app)
  await app.register(wsPlugin, {
    history: true,
    ...options.ws,
    ...(options.redisUrl === undefined ? {} : { adapter: new RedisAdapter({ url: options.redisUrl }) }),
    protocol: chatProtocol,
    auth: { secret: options.jwtSecret },
    asyncapi: { openapi: OPENAPI_PATH, ...options.ws?.asyncapi },
  })
  // The browsable protocol docs the chat page links to (needs @asyncapi/react-component).
  await app.register(wsDocs, { routePrefix: '/docs' })
  registerChatApi(app, { jwtSecret: options.jwtSecret, ...(options.tokenTtlSeconds === undefined ? {} : { tokenTtlSeconds: options.tokenTtlSeconds }) })
  await registerModeration(app)
  return app
}
