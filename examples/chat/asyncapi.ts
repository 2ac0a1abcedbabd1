/**
 * The example app's AsyncAPI document, as `npm run asyncapi` writes it to `asyncapi.yaml` (and
 * as the staleness test recomputes it).
 */
import type { AsyncApiOptions } from '../../plugin.js'
import { buildChatApp, DEV_JWT_SECRET } from './app.js'

/** What the committed document says about where the example runs (`npm start` defaults). */
export const chatAsyncApiOptions: AsyncApiOptions = {
  servers: {
    development: { host: '127.0.0.1:3000', protocol: 'ws', description: 'The example chat server on its default address (`npm start`).' },
  },
}

export async function renderChatAsyncApiYaml (): Promise<string> {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, logger: false, ws: { asyncapi: chatAsyncApiOptions, heartbeatIntervalMs: 0 } })
  try {
    await app.ready()
    return app.asyncapi({ yaml: true })
  } finally {
    await app.close()
  }
}
