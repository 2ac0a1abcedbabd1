/** The example chat server as a function, so tests and scripts build the same app `npm start` runs. */
import Fastify, { type FastifyInstance } from 'fastify'
import wsPlugin, { type WsPluginOptions } from '../../plugin.js'
import { RedisAdapter } from '../../redis.js'
import wsDocs from '../../docs.js'
import { chatProtocol } from './protocol.js'

export const DEV_JWT_SECRET = 'development-secret-do-not-use-in-production'

export interface ChatAppOptions {
  jwtSecret: string
  /** Pino options, or false. (The plugin redacts `?token=` from its route's request logs.) */
  logger?: false | { level?: string }
  ws?: Omit<WsPluginOptions, 'protocol' | 'auth'>
  /** Share rooms, presence and history with other instances through this Redis. @default memory (one process) */
  redisUrl?: string
}

export async function buildChatApp (options: ChatAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
  })
  await app.register(wsPlugin, {
    ...options.ws,
    ...(options.redisUrl === undefined ? {} : { adapter: new RedisAdapter({ url: options.redisUrl }) }),
    protocol: chatProtocol,
    auth: { secret: options.jwtSecret },
  })
  // The browsable protocol docs the chat page links to (needs @asyncapi/react-component).
  await app.register(wsDocs, { routePrefix: '/docs' })
  return app
}
