/** The example chat server as a function, so tests and scripts build the same app `npm start` runs. */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import wsPlugin, { type WsPluginOptions } from '../../plugin.js'
import { chatProtocol } from './protocol.js'

export const DEV_JWT_SECRET = 'development-secret-do-not-use-in-production'

export interface ChatAppOptions {
  jwtSecret: string
  logger?: FastifyServerOptions['logger']
  ws?: Omit<WsPluginOptions, 'protocol' | 'auth'>
}

export async function buildChatApp (options: ChatAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false })
  await app.register(wsPlugin, {
    ...options.ws,
    protocol: chatProtocol,
    auth: { secret: options.jwtSecret },
  })
  return app
}
