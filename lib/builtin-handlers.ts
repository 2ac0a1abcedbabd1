/** Handlers of the built-in client messages (the contract is in handler.ts). */
import type { Exclusions, MaybePromise } from './adapter.js'
import { isPromise } from './adapter.js'
import type { Authenticator } from './auth.js'
import type { Connection } from './connection.js'
import { WsError } from './errors.js'
import { REPLIED, type BuiltinHandler, type InternalHandler } from './handler.js'

/** What the built-ins need from the server; the hub provides it. */
export interface BuiltinHost {
  join(connection: Connection, room: string, since: number | undefined, id: string | undefined, epoch?: string): Promise<void>
  leave(connection: Connection, room: string): Promise<void>
  publish(room: string, type: string, payload: unknown, durable: boolean, except: Exclusions | undefined, idempotencyKey?: string): MaybePromise<number | undefined>
  setExpiry(connection: Connection, expiresAt: number | undefined): void
  /** Publishes take effect in call order even when one starts before the previous settled (`Adapter.ordersPublishes`). */
  readonly publishesInOrder: boolean
}

function requireMember (connection: Connection, room: string): void {
  if (!connection.rooms.has(room)) throw new WsError('not_in_room', `Join room "${room}" before sending to it`)
}

/** Drop the publish result (a seq) so the request is answered with a plain `ack`. */
function settled (result: unknown): undefined | Promise<void> {
  return isPromise(result) ? result.then(() => undefined) : undefined
}

export function builtinHandlers (host: BuiltinHost, auth: Authenticator): Record<string, BuiltinHandler> {
  const handlers: Record<string, InternalHandler> = {
    join_room: (connection, payload: { room: string, since?: number, epoch?: string }, id) =>
      host.join(connection, payload.room, payload.since, id, payload.epoch).then(() => REPLIED),

    leave_room: async (connection, payload: { room: string }) => {
      await host.leave(connection, payload.room)
      return { room: payload.room }
    },

    message: (connection, payload: { room: string, content: string, idempotencyKey?: string }) => {
      requireMember(connection, payload.room)
      // Scoped to the sender (length-prefixed, so no two users' keys can collide).
      const key = payload.idempotencyKey === undefined ? undefined : `${connection.userId.length}:${connection.userId}:${payload.idempotencyKey}`
      return settled(host.publish(payload.room, 'message',
        { userId: connection.userId, content: payload.content, ts: Date.now() }, true, undefined, key))
    },

    typing: (connection, payload: { room: string }) => {
      requireMember(connection, payload.room)
      return settled(host.publish(payload.room, 'typing', { userId: connection.userId }, false, { users: [connection.userId] }))
    },

    ping: () => ({ ts: Date.now() }),

    refresh_token: async (connection, payload: { token: string }) => {
      const result = await auth.verify(payload.token)
      if (!result.ok) throw new WsError('unauthorized', result.reason)
      if (result.identity.user.id !== connection.userId) {
        throw new WsError('forbidden', 'The new token belongs to another user')
      }
      connection.claims = result.identity.user.claims
      host.setExpiry(connection, result.identity.expiresAt)
      return result.identity.expiresAt === undefined ? {} : { expiresAt: result.identity.expiresAt }
    },
  }
  // `message` and `typing` are one publish each, started synchronously: pipelinable when the adapter keeps publishes in order.
  const pipelinable = new Set(host.publishesInOrder ? ['message', 'typing'] : [])
  return Object.fromEntries(Object.entries(handlers).map(([type, run]) => [type, { run, pipelined: pipelinable.has(type) }]))
}
