/** The example chat server as a function, so tests and scripts build the same app `npm start` runs. */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import wsPlugin, { RedisAdapter, type WsPluginOptions } from '../../plugin.js'
import { chatProtocol } from './protocol.js'

export const DEV_JWT_SECRET = 'development-secret-do-not-use-in-production'

export interface ChatAppOptions {
  jwtSecret: string
  /** Pino options, or false. Tokens in `?token=` are redacted from request logs. */
  logger?: false | { level?: string }
  ws?: Omit<WsPluginOptions, 'protocol' | 'auth'>
  /** Share rooms, presence and history with other instances through this Redis. @default memory (one process) */
  redisUrl?: string
}

export async function buildChatApp (options: ChatAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === undefined || options.logger === false
      ? false
      : { ...options.logger, serializers: { req: redactedRequest } },
  })
  await app.register(wsPlugin, {
    ...options.ws,
    ...(options.redisUrl === undefined ? {} : { adapter: new RedisAdapter({ url: options.redisUrl }) }),
    protocol: chatProtocol,
    auth: { secret: options.jwtSecret },
  })
  return app
}

/** Request log lines without the token a WebSocket client passes in the query string. */
function redactedRequest (request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url.replace(/([?&]token=)[^&]*/, '$1[redacted]'),
    remoteAddress: request.ip,
  }
}
