/**
 * The example app's AsyncAPI documents, as `npm run asyncapi` writes them to `asyncapi.yaml` (the
 * server's view) and `asyncapi.client.yaml` (the client's view), and as the staleness test
 * recomputes them.
 */
import type { AsyncApiOptions, AsyncApiView } from '../../plugin.js'
import { buildChatApp, DEV_JWT_SECRET } from './app.js'

/** What the committed documents say about where the example runs (`npm start` defaults) and who to ask. */
export const chatAsyncApiOptions: AsyncApiOptions = {
  info: {
    // A placeholder contact: a real app names its team here (linters ask for name, url and email).
    contact: { name: 'Example chat maintainers', url: 'http://127.0.0.1:3000/docs', email: 'chat@example.com' },
  },
  servers: {
    development: { host: '127.0.0.1:3000', protocol: 'ws', description: 'The example chat server on its default address (`npm start`).' },
  },
}

export async function renderChatAsyncApiYaml (view: AsyncApiView = 'server'): Promise<string> {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, logger: false, ws: { asyncapi: chatAsyncApiOptions, heartbeatIntervalMs: 0 } })
  try {
    await app.ready()
    return app.asyncapi({ yaml: true, view })
  } finally {
    await app.close()
  }
}
