/**
 * The example's HTTP API, documented as OpenAPI by `@fastify/swagger` from TypeBox schemas (the
 * recipe of the README): a development sign-in as a typed REST operation, the plugin's room
 * history route, and the OpenAPI document itself at `/openapi.json` — next to `/asyncapi.json`,
 * each pointing to the other. The page's one generated client is built from both documents.
 */
import fastifySwagger from '@fastify/swagger'
import { createSigner } from 'fast-jwt'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'

/** Where the OpenAPI document is served (the AsyncAPI document links here: `asyncapi.openapi`). */
export const OPENAPI_PATH = '/openapi.json'

/** Display names: 1–32 letters or digits, with inner spaces and `_ . ' -`. */
export const DisplayName = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: "^[\\p{L}\\p{N}](?:[\\p{L}\\p{N} _.'-]*[\\p{L}\\p{N}_.'-])?$",
  description: "1–32 letters or digits, with inner spaces and _ . ' -",
})

const SignInRequest = Type.Object({
  name: DisplayName,
  moderator: Type.Optional(Type.Boolean({ description: 'Sign in as a moderator (the `moderator` claim): may remove users from rooms.' })),
}, { additionalProperties: false })
const SignInReply = Type.Object({
  token: Type.String({ description: 'A JWT whose `sub` is the user id: for the WebSocket endpoint and the secured routes.' }),
  userId: Type.String(),
  expiresAt: Type.Integer({ description: 'Milliseconds since the Unix epoch.' }),
}, { additionalProperties: false })
const BadRequest = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() })

/** Register before any route it should document (the plugin's routes included). */
export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Chat example', version: '1.0.0', description: 'The HTTP routes of the example chat. Its WebSocket protocol is the AsyncAPI document at `/asyncapi.json`.' },
      // The generated REST half sends the token to operations that name this scheme (the history route does).
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  })
}

export interface ChatApiOptions {
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
 * `POST /dev/token` (`signIn`), a DEVELOPMENT-ONLY sign-in that mints a token for any name, and
 * the OpenAPI document. A real app issues tokens from its own login (session, OAuth/OIDC…) and
 * never lets a client pick its user id.
 */
export function registerChatApi (app: FastifyInstance, options: ChatApiOptions): void {
  const ttlMs = (options.tokenTtlSeconds ?? 900) * 1000
  const sign = createSigner({ key: options.jwtSecret, algorithm: 'HS256', expiresIn: ttlMs })

  app.post<{ Body: Static<typeof SignInRequest> }>('/dev/token', {
    schema: {
      operationId: 'signIn',
      summary: 'DEVELOPMENT ONLY: a short-lived token for any display name',
      tags: ['sign-in'],
      body: SignInRequest,
      response: { 200: SignInReply, 400: BadRequest },
    },
  }, async (request) => {
    const userId = request.body.name
    const expiresAt = Date.now() + ttlMs
    const claims = request.body.moderator === true ? { sub: userId, moderator: true } : { sub: userId }
    return { token: sign(claims), userId, expiresAt }
  })

  app.get(OPENAPI_PATH, { schema: { hide: true } as object }, async () => app.swagger())
}
