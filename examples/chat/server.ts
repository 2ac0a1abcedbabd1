/** `npm start`: the example chat server. */
import { buildChatApp } from './app.js'
import { readConfig } from './config.js'
import { prepareChatPage } from './web-build.js'
import { registerChatPage } from './web-routes.js'

const config = readConfig()
const app = await buildChatApp({
  jwtSecret: config.jwtSecret,
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  // The served AsyncAPI document names the address this process really listens on.
  ws: { asyncapi: { servers: { development: { host: `${config.host}:${config.port}`, protocol: 'ws', description: 'This example server.' } } } },
  ...(config.redisUrl === undefined ? {} : { redisUrl: config.redisUrl }),
  storage: { databaseUrl: config.databaseUrl, sqliteFile: config.dbFile },
})
app.log.info(config.redisUrl === undefined
  ? 'adapter: memory (one process; set REDIS_URL to share rooms between instances)'
  : 'adapter: redis (REDIS_URL is set): instances on the same Redis share rooms')
if (config.redisUrl !== undefined && config.databaseUrl === undefined) {
  app.log.warn('REDIS_URL is set but DATABASE_URL is not: each instance stores messages in its own SQLite file, so their older history differs')
}
if (config.usingDevSecret) {
  app.log.warn('JWT_SECRET is not set: using the built-in development secret. Never do this in production.')
}

// The chat page at /: the one client generated from the app's OpenAPI and AsyncAPI documents
// (cached by content hash), bundled in memory.
const page = await prepareChatPage({ log: (line) => app.log.info(line) })
await registerChatPage(app, { assets: page })
app.log.warn('POST /dev/token signs a token for any display name: the chat page\'s development sign-in, never for production.')

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
app.log.info(`Chat page: http://${config.host}:${config.port}/  ·  protocol docs: http://${config.host}:${config.port}/docs`)
