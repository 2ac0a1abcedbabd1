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
 * The open sockets of the app's own WebSocket routes (the hub knows its own). ws's `clientTracking`
 * would do it for every socket, at a closure, a 'close' listener array and a set entry per socket
 * (~0.25 KB per idle connection); this tracks only the others.
 */
export function trackOtherSockets (
  server: { on(event: 'connection', listener: (socket: WebSocket, request: IncomingMessage) => void): unknown },
  isOwnUpgrade: (request: IncomingMessage) => boolean,
): Set<WebSocket> {
  const open = new Set<WebSocket>()
  server.on('connection', (socket, request) => {
    if (isOwnUpgrade(request)) return
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  })
  return open
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
