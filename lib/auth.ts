/**
 * Authentication of the upgrade request and of `refresh_token`. Runs in a `preValidation` hook,
 * before the upgrade, so the socket handler is synchronous and no early frame can be lost.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuthOptions } from './options.js'
import type { WsUser } from './types.js'
import { TOKEN_QUERY_PARAMETER } from './protocol/envelope.js'

export interface Identity {
  readonly user: WsUser
  /** Token expiry (epoch ms), from the `exp` claim. */
  readonly expiresAt: number | undefined
  /** The connection's initial app data (`auth.authenticate`). */
  readonly data?: unknown
}

/** `cause`: the verifier's error code (e.g. `FAST_JWT_INVALID_SIGNATURE`), for the log only. */
export type AuthResult = { ok: true, identity: Identity } | { ok: false, reason: string, cause?: string }

export interface Authenticator {
  /** Identify the client of an upgrade request. */
  authenticate(request: FastifyRequest): Promise<AuthResult>
  /** Verify a token (for `refresh_token`). */
  verify(token: string): Promise<AuthResult>
}

/** The token of an upgrade request: `?token=` or `Authorization: Bearer`. */
export function tokenOf (request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined
  const token = query?.[TOKEN_QUERY_PARAMETER]
  if (typeof token === 'string' && token.length > 0) return token
  const header = request.headers.authorization
  if (typeof header === 'string' && /^bearer /i.test(header)) return header.slice(7).trim() || undefined
  return undefined
}

/** `url` with the value of every `token` query parameter replaced: tokens must not reach log files. */
export function redactToken (url: string): string {
  const at = url.indexOf('?')
  if (at === -1) return url
  const parts = url.slice(at + 1).split('&').map((part) => {
    const eq = part.indexOf('=')
    const key = eq === -1 ? part : part.slice(0, eq)
    let name = key
    try { name = decodeURIComponent(key.replaceAll('+', ' ')) } catch {}
    return name === TOKEN_QUERY_PARAMETER ? `${key}=[redacted]` : part
  })
  return url.slice(0, at + 1) + parts.join('&')
}

/** Fastify's request log fields for the WebSocket route, with the token redacted. */
export function upgradeRequestLog (request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactToken(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }
}

type JwtVerifier = (token: string, callback: (err: Error | null, decoded: unknown) => void) => void

export function createAuthenticator (app: FastifyInstance, auth: AuthOptions | false): Authenticator {
  if (auth === false) {
    const anonymous: AuthResult = { ok: true, identity: { user: { id: '', claims: {} }, expiresAt: undefined } }
    return {
      authenticate: async () => ({ ok: true, identity: { user: { id: `anonymous:${randomUUID()}`, claims: {} }, expiresAt: undefined } }),
      verify: async () => anonymous,
    }
  }
  const getUserId = auth.getUserId ?? ((claims) => claims.sub)
  const decode: (token: string) => Promise<unknown> = auth.verify !== undefined
    ? async (token) => auth.verify!(token)
    : async (token) => {
      const jwt = (app as unknown as { jwt?: { verify: JwtVerifier } }).jwt
      if (jwt === undefined) throw new Error('@fastify/jwt is not registered')
      return await new Promise((resolve, reject) => {
        jwt.verify(token, (err, decoded) => { if (err !== null) reject(err); else resolve(decoded) })
      })
    }

  async function verify (token: string): Promise<AuthResult> {
    let claims: unknown
    try {
      claims = await decode(token)
    } catch (err) {
      const cause = errorCode(err)
      return { ok: false, reason: cause?.includes('EXPIRED') === true ? 'Token expired' : 'Token invalid', ...(cause === undefined ? {} : { cause }) }
    }
    if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'Token invalid' }
    const record = claims as Record<string, unknown>
    const id = userIdOf(getUserId(record))
    if (id === undefined) return { ok: false, reason: 'Token has no user id (sub)' }
    const exp = record.exp
    const expiresAt = typeof exp === 'number' ? exp * 1000 : undefined
    if (expiresAt !== undefined && expiresAt <= Date.now()) return { ok: false, reason: 'Token expired' }
    return { ok: true, identity: { user: { id, claims: record }, expiresAt } }
  }

  const custom = auth.authenticate
  return {
    async authenticate (request) {
      const token = custom === undefined ? tokenOf(request) : undefined
      const result: AuthResult = custom !== undefined
        ? await authenticateWith(custom, request)
        : token === undefined ? { ok: false, reason: 'Token missing' } : await verify(token)
      // A refused client is a normal event, but its reason is what an operator needs: never the token.
      if (!result.ok) request.log.info({ reason: result.reason, cause: result.cause }, 'WebSocket authentication failed')
      return result
    },
    verify,
  }
}

/** The app's own authentication of the upgrade request (cookie, session…). */
async function authenticateWith (custom: NonNullable<AuthOptions['authenticate']>, request: FastifyRequest): Promise<AuthResult> {
  let user: Awaited<ReturnType<typeof custom>>
  try {
    user = await custom(request)
  } catch (err) {
    request.log.error({ err }, 'auth.authenticate failed')
    return { ok: false, reason: 'Authentication failed' }
  }
  if (user === undefined || user === null) return { ok: false, reason: 'Unauthorized' }
  if (typeof user.id !== 'string' || user.id.length === 0) {
    request.log.error('auth.authenticate returned a user without an id')
    return { ok: false, reason: 'Authentication failed' }
  }
  const { expiresAt } = user
  if (expiresAt !== undefined && expiresAt <= Date.now()) return { ok: false, reason: 'Session expired' }
  return { ok: true, identity: { user: { id: user.id, claims: user.claims ?? {} }, expiresAt, data: user.data } }
}

function errorCode (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** A user id is a non-empty string; a numeric claim (`"sub": 42`) becomes its decimal string. */
function userIdOf (value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  return typeof value === 'string' && value.length > 0 ? value : undefined
}
