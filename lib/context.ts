/** The context app handlers receive: what a handler may do, on behalf of its connection. */
import type { FastifyInstance } from 'fastify'
import type { MaybePromise } from './adapter.js'
import type { Connection } from './connection.js'
import type { BroadcastOptions, HandlerContext } from './define.js'
import { ServerMessage } from './protocol/names.js'

/** The actions a handler context needs from the server; the hub provides them. */
export interface ContextHost {
  readonly app: FastifyInstance
  join(connection: Connection, room: string, since: undefined, id: undefined): Promise<void>
  leave(connection: Connection, room: string): Promise<void>
  /** Throws on a server message type the protocol does not declare. */
  declared(type: string): unknown
  send(connection: Connection, type: string, payload: unknown): void
  broadcast(room: string, type: string, payload: unknown, options?: BroadcastOptions): MaybePromise<number | undefined>
  sendToUser(userId: string, type: string, payload: unknown): MaybePromise<void>
  members(room: string): MaybePromise<string[]>
  /** Validates the state against the protocol's presence schema, then sets it. */
  setPresenceChecked(connection: Connection, room: string, state: unknown): Promise<void>
}

export function createHandlerContext (host: ContextHost, connection: Connection): HandlerContext<any> {
  return {
    connection,
    get userId () { return connection.userId },
    get log () { return connection.log },
    app: host.app,
    join: (room) => host.join(connection, room, undefined, undefined),
    leave: async (room) => {
      if (!connection.rooms.has(room)) return
      // leave() drops the room from the local index before its first await: `room_left` is the
      // room's last frame, and tells the client not to join it again.
      const leaving = host.leave(connection, room)
      if (!connection.closed) host.send(connection, ServerMessage.RoomLeft, { room })
      await leaving
    },
    send: (type, payload) => {
      host.declared(type)
      host.send(connection, type, payload)
    },
    broadcast: async (room, type, payload, options) => host.broadcast(room, type, payload, options),
    sendToUser: async (userId, type, payload) => host.sendToUser(userId, type, payload),
    members: async (room) => host.members(room),
    setPresence: async (room, state) => host.setPresenceChecked(connection, room, state),
    get data () { return (connection.data ??= {}) as HandlerContext<any>['data'] },
    set data (value) { connection.data = value },
  }
}
