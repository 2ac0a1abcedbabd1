/**
 * Handlers of the built-in client messages. Each takes the connection and its validated payload;
 * a returned value is the declared reply's payload, `REPLIED` means the handler answered itself.
 */
import type { Authenticator } from './auth.js'
import type { Connection } from './connection.js'
import { WsError } from './errors.js'
import type { Hub } from './hub.js'
import { isPromise } from './adapter.js'

export const REPLIED = Symbol('replied')

/**
 * Built-in handlers whose whole effect is one adapter publish, started synchronously. With an
 * adapter that `ordersPublishes`, a connection's next one may start while this one is in flight.
 */
export const PIPELINABLE: ReadonlySet<string> = new Set(['message', 'typing'])

export type InternalHandler = (connection: Connection, payload: any, id: string | undefined) => unknown

function requireMember (connection: Connection, room: string): void {
  if (!connection.rooms.has(room)) throw new WsError('not_in_room', `Join room "${room}" before sending to it`)
}

/** Drop the publish result (a seq) so the request is answered with a plain `ack`. */
function settled (result: unknown): undefined | Promise<void> {
  return isPromise(result) ? result.then(() => undefined) : undefined
}

export function builtinHandlers (hub: Hub, auth: Authenticator): Record<string, InternalHandler> {
  return {
    join_room: (connection, payload: { room: string, since?: number }, id) =>
      hub.join(connection, payload.room, payload.since, id).then(() => REPLIED),

    leave_room: async (connection, payload: { room: string }) => {
      await hub.leave(connection, payload.room)
      return { room: payload.room }
    },

    message: (connection, payload: { room: string, content: string }) => {
      requireMember(connection, payload.room)
      return settled(hub.publish(payload.room, 'message',
        { userId: connection.userId, content: payload.content, ts: Date.now() }, true, undefined))
    },

    typing: (connection, payload: { room: string }) => {
      requireMember(connection, payload.room)
      return settled(hub.publish(payload.room, 'typing', { userId: connection.userId }, false, { users: [connection.userId] }))
    },

    ping: () => ({ ts: Date.now() }),

    refresh_token: async (connection, payload: { token: string }) => {
      const result = await auth.verify(payload.token)
      if (!result.ok) throw new WsError('unauthorized', result.reason)
      if (result.identity.user.id !== connection.userId) {
        throw new WsError('forbidden', 'The new token belongs to another user')
      }
      connection.claims = result.identity.user.claims
      hub.setExpiry(connection, result.identity.expiresAt)
      return result.identity.expiresAt === undefined ? {} : { expiresAt: result.identity.expiresAt }
    },
  }
}
