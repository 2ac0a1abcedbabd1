/**
 * The client's own user stays in the members view of a room it holds. Found by the chaos run
 * (bench/chaos): on a deploy or a cut, the user's old instance announces `user_left` for it after
 * its new connection re-joined elsewhere; the user never hears its own `user_joined` (the server
 * excludes the joiner), so its view lacked itself for good. A scripted server sends that late frame.
 */
import t from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { CHAT_DOCUMENT, generateInto, loadPackage, nextEvent } from './helpers/sdk.js'

const sdk = await loadPackage((await generateInto(t, CHAT_DOCUMENT)).outDir)

/** Greets as `alice`, answers join_room with alice and bob in the room, then sends `late` frames. */
async function scriptedServer (late: object[]): Promise<string> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => new Promise((resolve) => { for (const c of server.clients) c.terminate(); server.close(resolve) }))
  server.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'connected', payload: { connectionId: 'c1', userId: 'alice' } }))
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string, id?: string, payload: { room: string } }
      if (frame.type !== 'join_room') return
      const room = frame.payload.room
      socket.send(JSON.stringify({ type: 'room_joined', id: frame.id, payload: { room, members: ['alice', 'bob'], memberCount: 2, seq: 0 } }))
      for (const f of late) socket.send(JSON.stringify({ ...f, room }))
    })
  })
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}/ws`
}

t.test('a late user_left for the client\'s own user leaves its members view as it is; others\' still apply', async (t) => {
  const url = await scriptedServer([
    { type: 'user_left', payload: { userId: 'alice' } },
    { type: 'user_left', payload: { userId: 'bob' } },
  ])
  const alice = sdk.createClient({ url, token: 'x', WebSocket })
  t.teardown(() => alice.close())
  const bobLeft = nextEvent(alice, 'members', () => alice.members('r')?.users.includes('bob') === false)
  await alice.sendJoinRoom({ room: 'r' })
  await bobLeft
  t.same(alice.members('r'), { users: ['alice'], count: 1, complete: true }, 'alice is still in the room she holds; bob left')
})
