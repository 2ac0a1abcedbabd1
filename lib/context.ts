/** The context app handlers receive: what a handler may do, on behalf of its connection. */
import type { Connection } from './connection.js'
import type { HandlerContext } from './define.js'
import type { Hub } from './hub.js'

export function createHandlerContext (hub: Hub, connection: Connection): HandlerContext<any> {
  return {
    connection,
    get userId () { return connection.userId },
    log: connection.log,
    app: hub.app,
    join: (room) => hub.join(connection, room, undefined, undefined),
    leave: (room) => hub.leave(connection, room),
    send: (type, payload) => {
      hub.declared(type)
      hub.send(connection, type, payload)
    },
    broadcast: async (room, type, payload, options) => hub.broadcast(room, type, payload, options),
    sendToUser: async (userId, type, payload) => hub.sendToUser(userId, type, payload),
    members: async (room) => hub.adapter.members(room),
  }
}
