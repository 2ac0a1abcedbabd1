/**
 * The hand-written ceiling: a raw `ws` server that verifies the token on upgrade (fast-jwt, HS256),
 * keeps rooms as sets of sockets, and serialises each broadcast once, sending the same string to
 * every member.
 */
import { createServer } from 'node:http'
import { createVerifier } from 'fast-jwt'
import { WebSocketServer, type WebSocket } from 'ws'
import type { RunningServer, ServerConfig } from './types.js'

export async function start (config: ServerConfig): Promise<RunningServer> {
  const verify = createVerifier({ key: config.secret, algorithms: ['HS256'] })
  const rooms = new Map<string, Set<WebSocket>>()
  let open = 0
  let seq = 0
  const http = createServer((_req, res) => { res.writeHead(404).end() })
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 65536 })

  http.on('upgrade', (request, socket, head) => {
    let userId: string
    try {
      const token = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token') ?? ''
      userId = (verify(token) as { sub: string }).sub
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, userId))
  })

  function onConnection (ws: WebSocket, userId: string): void {
    open++
    let joined: string | undefined
    ws.on('message', (data) => {
      let message: { type?: unknown, room?: unknown, content?: unknown }
      try {
        message = JSON.parse(String(data))
      } catch {
        return
      }
      if (message.type === 'join' && typeof message.room === 'string') {
        joined = message.room
        let members = rooms.get(joined)
        if (members === undefined) rooms.set(joined, members = new Set())
        members.add(ws)
        ws.send(JSON.stringify({ type: 'joined', room: joined }))
      } else if (message.type === 'message' && message.room === joined && joined !== undefined) {
        const text = JSON.stringify({ type: 'message', room: joined, seq: ++seq, payload: { userId, content: message.content, ts: Date.now() } })
        for (const member of rooms.get(joined)!) member.send(text)
      }
    })
    ws.on('close', () => {
      open--
      if (joined === undefined) return
      const members = rooms.get(joined)
      members?.delete(ws)
      if (members?.size === 0) rooms.delete(joined)
    })
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const address = http.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: () => open,
    close: async () => {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    },
  }
}
