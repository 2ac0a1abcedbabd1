/**
 * Graceful shutdown: refuse new connections, let running handlers finish (bounded), then close
 * every socket with 1001 and clean presence up. Sockets that do not finish the closing handshake
 * promptly are terminated.
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import { CloseCode } from './protocol/codes.js'
import type { Connection } from './connection.js'
import type { Registry } from './registry.js'
import { withTimeout } from './timeout.js'

/** Handlers still running: counted by the dispatcher, awaited (bounded) on shutdown. */
export class RunningHandlers {
  count = 0
  private idleWaiter: (() => void) | undefined

  started (): void {
    this.count++
  }

  done (): void {
    if (--this.count === 0 && this.idleWaiter !== undefined) {
      this.idleWaiter()
      this.idleWaiter = undefined
    }
  }

  /** Resolves once no handler runs (at once when none does). */
  async idle (): Promise<void> {
    if (this.count > 0) await new Promise<void>((resolve) => { this.idleWaiter = resolve })
  }
}

export async function shutdown (
  registry: Registry,
  handlers: RunningHandlers,
  removeConnection: (connection: Connection) => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  registry.closing = true
  if (handlers.count > 0) await withTimeout(handlers.idle(), timeoutMs)
  const connections = [...registry.connections.values()]
  const closed = connections.map((connection) => socketClosed(connection.socket))
  for (const connection of connections) connection.close(CloseCode.GoingAway, 'Server shutting down')
  await withTimeout(Promise.allSettled(connections.map((connection) => removeConnection(connection))), timeoutMs)
  await withTimeout(Promise.all(closed), 1000)
  for (const connection of connections) {
    if (connection.socket.readyState !== connection.socket.CLOSED) connection.socket.terminate()
  }
}

function socketClosed (socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => socket.once('close', () => resolve()))
}

/**
 * Open sockets the hub does not hold: those of the app's own WebSocket routes, and this route's
 * that were refused (closing, but a client that never answers the close would hold app.close()
 * for ws's 30 s). ws's `clientTracking` would track every socket, at a closure, a second 'close'
 * listener and a set entry each (~0.25 KB per idle connection); this tracks only these.
 */
export class OtherSockets {
  readonly open = new Set<WebSocket>()

  track (socket: WebSocket): void {
    this.open.add(socket)
    socket.once('close', () => this.open.delete(socket))
  }

  /** Track every upgrade on `server` that is not this route's. */
  listen (
    server: { on(event: 'connection', listener: (socket: WebSocket, request: IncomingMessage) => void): unknown },
    isOwnUpgrade: (request: IncomingMessage) => boolean,
  ): void {
    server.on('connection', (socket, request) => { if (!isOwnUpgrade(request)) this.track(socket) })
  }
}

/**
 * Sockets of the app's own WebSocket routes share this plugin's @fastify/websocket: close them
 * (1001) after the hub's, and terminate any that did not finish the closing handshake in time,
 * or the HTTP server (and app.close()) would wait for them forever.
 */
export async function closeOtherSockets (clients: Set<WebSocket>, timeoutMs: number): Promise<void> {
  const open = [...clients].filter((socket) => socket.readyState !== socket.CLOSED)
  if (open.length === 0) return
  await new Promise<void>((resolve) => {
    let left = open.length
    const timer = setTimeout(() => { for (const socket of open) socket.terminate() }, Math.max(timeoutMs, 100))
    for (const socket of open) {
      socket.once('close', () => { if (--left === 0) { clearTimeout(timer); resolve() } })
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.GoingAway, 'Server shutting down')
      else if (socket.readyState === socket.CONNECTING) socket.terminate()
    }
  })
}
