/** The `connected` greeting: always a connection's first frame, sent once the adapter routes its user here. */
import type { Adapter } from './adapter.js'
import { isPromise } from './adapter.js'
import type { Connection } from './connection.js'
import type { Delivery } from './delivery.js'
import { ServerMessage } from './protocol/names.js'

/**
 * Have the adapter route the user's messages here (Redis: SUBSCRIBE answered), once per
 * connection. Returns a promise only when it has to wait; a failure is logged (the connection is
 * served locally). Done before `onConnect` hooks run, so a control they send to the connection
 * (`app.ws.addToRoom`) reaches it.
 */
export function register (connection: Connection, adapter: Adapter): Promise<void> | undefined {
  if (connection.registered) return undefined
  connection.registered = true
  const registered = adapter.addConnection?.(connection.userId, connection.id)
  if (registered === undefined || !isPromise(registered)) return undefined
  return registered.then(() => {}, (err: unknown) => connection.log.error({ err }, 'adapter connection setup failed'))
}

/**
 * Send `connected` once the connection is registered with the adapter. Until then the connection
 * is busy (its frames wait in order) and user deliveries skip it, so `connected` is always the
 * first frame. Returns a promise only when the greeting had to wait.
 */
export function greet (connection: Connection, adapter: Adapter, delivery: Delivery): Promise<void> | undefined {
  const greeting = connection.expiresAt === undefined
    ? { connectionId: connection.id, userId: connection.userId }
    : { connectionId: connection.id, userId: connection.userId, expiresAt: connection.expiresAt }
  const registering = register(connection, adapter)
  if (registering === undefined) {
    sendGreeting(connection, greeting, delivery)
    return undefined
  }
  connection.busy = true
  return registering.then(() => {
    connection.busy = false
    sendGreeting(connection, greeting, delivery)
  })
}

/** `connected`, then the frames `onConnect` hooks caused meanwhile (e.g. their joins' `room_joined`). */
function sendGreeting (connection: Connection, greeting: object, delivery: Delivery): void {
  connection.greeted = true
  const pending = connection.pending
  connection.pending = undefined
  if (connection.closed) return
  delivery.send(connection, ServerMessage.Connected, greeting)
  if (pending !== undefined) for (const frame of pending) delivery.writeFrame(connection, frame, true)
}
