/**
 * The chat page's HTTP routes: the page and its two assets, served from memory with plain Fastify
 * routes, and `POST /dev/token`, a DEVELOPMENT-ONLY sign-in that mints a token for any name.
 * A real app issues tokens from its own login (session, OAuth/OIDC…) and never lets a client
 * pick its user id.
 */
import { createSigner } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import type { ChatPageAssets } from './web-build.js'

/** Display names: 1–32 letters or digits, with inner spaces and `_ . ' -`. */
export const DisplayName = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: "^[\\p{L}\\p{N}](?:[\\p{L}\\p{N} _.'-]*[\\p{L}\\p{N}_.'-])?$",
  description: "1–32 letters or digits, with inner spaces and _ . ' -",
})

const DevTokenRequest = Type.Object({
  name: DisplayName,
  moderator: Type.Optional(Type.Boolean({ description: 'Sign in as a moderator (the `moderator` claim): may remove users from rooms.' })),
}, { additionalProperties: false })
const DevTokenReply = Type.Object({
  token: Type.String(),
  userId: Type.String(),
  expiresAt: Type.Integer({ description: 'Milliseconds since the Unix epoch.' }),
}, { additionalProperties: false })

export interface ChatPageOptions {
  assets: ChatPageAssets
  /** Signs the development tokens: the secret the WebSocket endpoint verifies with. */
  jwtSecret: string
  /**
   * Lifetime of a development token. Short on purpose: the page's client refreshes it on the open
   * connection (`refresh_token`) before it runs out.
   * @default 900 (15 minutes)
   */
  tokenTtlSeconds?: number
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
  const ttlMs = (options.tokenTtlSeconds ?? 900) * 1000
  const sign = createSigner({ key: options.jwtSecret, algorithm: 'HS256', expiresIn: ttlMs })

  app.get('/', async (_request, reply) => reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('cache-control', 'no-cache')
    .send(assets.html))
  app.get('/app.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(assets.js))
  app.get('/styles.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(assets.css))

  app.post<{ Body: Static<typeof DevTokenRequest> }>('/dev/token', {
    schema: {
      summary: 'DEVELOPMENT ONLY: a short-lived token for any display name',
      body: DevTokenRequest,
      response: { 200: DevTokenReply },
    },
  }, async (request) => {
    const userId = request.body.name
    const expiresAt = Date.now() + ttlMs
    const claims = request.body.moderator === true ? { sub: userId, moderator: true } : { sub: userId }
    return { token: sign(claims), userId, expiresAt }
  })
}
