/** `npm start`: the example chat server. */
import { buildChatApp } from './app.js'
import { readConfig } from './config.js'

const config = readConfig()
const app = await buildChatApp({
  jwtSecret: config.jwtSecret,
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  ...(config.redisUrl === undefined ? {} : { redisUrl: config.redisUrl }),
})
app.log.info(config.redisUrl === undefined
  ? 'adapter: memory (one process; set REDIS_URL to share rooms between instances)'
  : 'adapter: redis (REDIS_URL is set): instances on the same Redis share rooms')
if (config.usingDevSecret) {
  app.log.warn('JWT_SECRET is not set: using the built-in development secret. Never do this in production.')
}

let closing = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  })
}

await app.listen({ host: config.host, port: config.port })
app.log.info(`WebSocket endpoint: ws://${config.host}:${config.port}/ws?token=<jwt>  (npm run token -- <userId>)`)
