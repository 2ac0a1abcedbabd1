/** Handlers of the built-in client messages (the contract is in handler.ts). */
import type { Exclusions, MaybePromise } from './adapter.js'
import { isPromise } from './adapter.js'
import type { Authenticator } from './auth.js'
import type { Connection } from './connection.js'
import { WsError } from './errors.js'
import { REPLIED, type BuiltinHandler, type InternalHandler } from './handler.js'
import type { MembersPage } from './presence.js'

/** What the built-ins need from the server; the hub provides it. */
export interface BuiltinHost {
  join(connection: Connection, room: string, since: number | undefined, id: string | undefined): Promise<void>
  leave(connection: Connection, room: string): Promise<void>
  publish(room: string, type: string, payload: unknown, durable: boolean, except: Exclusions | undefined): MaybePromise<number | undefined>
  membersPage(room: string, after: string | undefined, limit: number | undefined): Promise<MembersPage>
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
    join_room: (connection, payload: { room: string, since?: number }, id) =>
      host.join(connection, payload.room, payload.since, id).then(() => REPLIED),

    leave_room: async (connection, payload: { room: string }) => {
      await host.leave(connection, payload.room)
      return { room: payload.room }
    },

    message: (connection, payload: { room: string, content: string }) => {
      requireMember(connection, payload.room)
      return settled(host.publish(payload.room, 'message',
        { userId: connection.userId, content: payload.content, ts: Date.now() }, true, undefined))
    },

    typing: (connection, payload: { room: string }) => {
      requireMember(connection, payload.room)
      return settled(host.publish(payload.room, 'typing', { userId: connection.userId }, false, { users: [connection.userId] }))
    },

    get_members: (connection, payload: { room: string, after?: string, limit?: number }) => {
      requireMember(connection, payload.room)
      return host.membersPage(payload.room, payload.after, payload.limit)
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
