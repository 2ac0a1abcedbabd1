/** Handlers of the built-in client messages (the contract is in handler.ts). */
import type { Exclusions, MaybePromise } from './adapter.js'
import { isPromise } from './adapter.js'
import type { Authenticator } from './auth.js'
import type { Connection } from './connection.js'
import { WsError } from './errors.js'
import { REPLIED, type BuiltinHandler, type InternalHandler } from './handler.js'
import type { ResolvedOptions } from './options.js'
import type { MembersPage } from './presence.js'
import { ClientMessage, ServerMessage } from './protocol/names.js'

/** What the built-ins need from the server; the hub provides it. */
export interface BuiltinHost {
  join(connection: Connection, room: string, since: number | undefined, id: string | undefined, epoch?: string): Promise<void>
  leave(connection: Connection, room: string): Promise<void>
  publish(room: string, type: string, payload: unknown, durable: boolean, except: Exclusions | undefined, idempotencyKey?: string): MaybePromise<number | undefined>
  membersPage(room: string, after: string | undefined, limit: number | undefined): Promise<MembersPage>
  setPresence(connection: Connection, room: string, state: unknown): Promise<void>
  setExpiry(connection: Connection, expiresAt: number | undefined): void
  /** The app's `onPublish` hooks (hooks.ts). */
  hasHook(name: 'onPublish'): boolean
  runHook(name: 'onPublish', connection: Connection, event: unknown): MaybePromise<void>
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

type PublishType = 'message' | 'typing'

export function builtinHandlers (host: BuiltinHost, auth: Authenticator, authorizePublish: ResolvedOptions['authorizePublish']): Record<string, BuiltinHandler> {
  /** A member's publish into a room: `authorizePublish` → publish (`seq`) → `onPublish` hooks → ack. */
  function publishFrom (connection: Connection, room: string, type: PublishType, payload: object, except: Exclusions | undefined, idempotencyKey?: string): unknown {
    requireMember(connection, room)
    if (authorizePublish === undefined) return publish(connection, room, type, payload, except, idempotencyKey)
    const allowed = authorizePublish({ id: connection.userId, claims: connection.claims }, room, type)
    const decide = (ok: boolean): unknown => {
      if (!ok) throw new WsError('forbidden', `Not allowed to send "${type}" to room "${room}"`)
      return publish(connection, room, type, payload, except, idempotencyKey)
    }
    return isPromise(allowed) ? allowed.then(decide) : decide(allowed)
  }

  function publish (connection: Connection, room: string, type: PublishType, payload: object, except: Exclusions | undefined, idempotencyKey?: string): unknown {
    const result = host.publish(room, type, payload, type === ServerMessage.Message, except, idempotencyKey)
    if (!host.hasHook('onPublish')) return settled(result)
    const published = (seq: number | undefined): MaybePromise<void> => host.runHook('onPublish', connection, { room, type, payload, seq })
    return isPromise(result) ? result.then(published) : published(result)
  }

  const handlers: Record<string, InternalHandler> = {
    join_room: (connection, payload: { room: string, since?: number, epoch?: string }, id) =>
      host.join(connection, payload.room, payload.since, id, payload.epoch).then(() => REPLIED),

    leave_room: async (connection, payload: { room: string }) => {
      await host.leave(connection, payload.room)
      return { room: payload.room }
    },

    message: (connection, payload: { room: string, content: string, idempotencyKey?: string }) =>
      publishFrom(connection, payload.room, ServerMessage.Message, { userId: connection.userId, content: payload.content, ts: Date.now() }, undefined,
        // Scoped to the sender (length-prefixed, so no two users' keys can collide).
        payload.idempotencyKey === undefined ? undefined : `${connection.userId.length}:${connection.userId}:${payload.idempotencyKey}`),

    typing: (connection, payload: { room: string }) =>
      publishFrom(connection, payload.room, ServerMessage.Typing, { userId: connection.userId }, { users: [connection.userId] }),

    get_members: (connection, payload: { room: string, after?: string, limit?: number }) => {
      requireMember(connection, payload.room)
      return host.membersPage(payload.room, payload.after, payload.limit)
    },

    // Present only when the protocol declares a presence state (the catalog routes it then).
    set_presence: async (connection, payload: { room: string, state: unknown }) => {
      await host.setPresence(connection, payload.room, payload.state)
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
  // `message` and `typing` are one publish each, started synchronously: pipelinable when the adapter
  // keeps publishes in order and no app check runs first (`onPublish` hooks: see dispatch applyHooks).
  const pipelinable = new Set<string>(host.publishesInOrder && authorizePublish === undefined ? [ClientMessage.Message, ClientMessage.Typing] : [])
  return Object.fromEntries(Object.entries(handlers).map(([type, run]) => [type, { run, pipelined: pipelinable.has(type) }]))
}
