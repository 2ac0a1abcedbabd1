/**
 * Socket.IO 4, WebSocket transport only: token checked in a middleware (fast-jwt, HS256), rooms
 * from its adapter, broadcasts with `io.to(room).emit`. In memory by default; with
 * `@socket.io/redis-adapter` (ioredis) for multi-instance runs; on Redis Cluster, with its sharded
 * adapter (`createShardedAdapter`: SSUBSCRIBE/SPUBLISH, a channel per room) on the `redis`
 * package's cluster client, as its README prescribes (it does not support ioredis' Cluster).
 */
import { createServer } from 'node:http'
import { createVerifier } from 'fast-jwt'
import { Server } from 'socket.io'
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { createCluster } from 'redis'
import type { RunningServer, ServerConfig } from './types.js'

export async function start (config: ServerConfig): Promise<RunningServer> {
  const verify = createVerifier({ key: config.secret, algorithms: ['HS256'] })
  const http = createServer()
  const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 65536 })
  const redisClients: Array<{ disconnect(): unknown }> = []
  if (config.redis?.clusterNodes !== undefined) {
    const pub = createCluster({ rootNodes: config.redis.clusterNodes.map((url) => ({ url })) })
    const sub = pub.duplicate()
    for (const client of [pub, sub]) client.on('error', (err: Error) => { console.error(`socket.io redis cluster client: ${err.message}`) })
    await Promise.all([pub.connect(), sub.connect()])
    redisClients.push(pub, sub)
    io.adapter(createShardedAdapter(pub, sub, { channelPrefix: config.redis.prefix + 'socket.io' }))
  } else if (config.redis !== undefined) {
    const pub = new Redis(config.redis.url)
    const sub = pub.duplicate()
    redisClients.push(pub, sub)
    io.adapter(createAdapter(pub, sub, { key: config.redis.prefix + 'socket.io' }))
  }
  let seq = 0

  io.use((socket, next) => {
    try {
      socket.data.userId = (verify(String(socket.handshake.auth.token)) as { sub: string }).sub
      next()
    } catch {
      next(new Error('unauthorized'))
    }
  })
  io.on('connection', (socket) => {
    socket.on('join', (room: unknown, ack: unknown) => {
      if (typeof room !== 'string') return
      void socket.join(room)
      if (typeof ack === 'function') ack()
    })
    socket.on('message', (message: { room?: unknown, content?: unknown }) => {
      const room = message?.room
      if (typeof room !== 'string' || !socket.rooms.has(room)) return
      io.to(room).emit('message', { room, seq: ++seq, payload: { userId: socket.data.userId, content: message.content, ts: Date.now() } })
    })
  })

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const address = http.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    connections: () => io.engine.clientsCount,
    close: async () => {
      await new Promise((resolve) => io.close(resolve))
      await Promise.allSettled(redisClients.map(async (client) => client.disconnect()))
    },
  }
}
