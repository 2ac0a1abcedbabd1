/**
 * The chat page's HTTP routes: the page and its two assets, served from memory with plain Fastify
 * routes, left out of the OpenAPI document (they are no API). The sign-in the page uses is part of
 * the app's API (`api.ts`).
 */
import type { FastifyInstance } from 'fastify'
import type { ChatPageAssets } from './web-build.js'

export interface ChatPageOptions {
  assets: ChatPageAssets
}

/**
 * Everything but the WebSocket endpoint comes from here and `/docs`: no CDN. The policy also
 * keeps any injected markup from loading scripts or reaching other hosts.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
  "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

export async function registerChatPage (app: FastifyInstance, options: ChatPageOptions): Promise<void> {
  const { assets } = options

  const hide = { schema: { hide: true } as object }
  app.get('/', hide, async (_request, reply) => reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('cache-control', 'no-cache')
    .send(assets.html))
  app.get('/app.js', hide, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(assets.js))
  app.get('/styles.css', hide, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(assets.css))
}
