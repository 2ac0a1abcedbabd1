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

/** Greets as `alice`, answers join_room with alice and bob in the room (at presence `version`), then sends `late` frames. */
async function scriptedServer (late: object[], version?: number): Promise<string> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => new Promise((resolve) => { for (const c of server.clients) c.terminate(); server.close(resolve) }))
  server.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'connected', payload: { connectionId: 'c1', userId: 'alice' } }))
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string, id?: string, payload: { room: string } }
      if (frame.type !== 'join_room') return
      const room = frame.payload.room
      const payload = { room, members: ['alice', 'bob'], memberCount: 2, seq: 0, ...(version === undefined ? {} : { version }) }
      socket.send(JSON.stringify({ type: 'room_joined', id: frame.id, payload }))
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
  t.same(alice.members('r'), { users: ['alice'], count: 1, complete: true, presence: {} }, 'alice is still in the room she holds; bob left')
})

t.test('announcements older than the list or than the last one applied for that user are dropped (two instances\' frames out of order)', async (t) => {
  const url = await scriptedServer([
    { type: 'user_left', payload: { userId: 'bob', version: 9 } }, // before the list: already in it
    { type: 'user_joined', payload: { userId: 'carol', version: 12 } },
    { type: 'user_left', payload: { userId: 'carol', version: 11 } }, // her old instance, late
    { type: 'user_left', payload: { userId: 'dave', version: 14 } },
    { type: 'user_joined', payload: { userId: 'dave', version: 13 } }, // older than his departure
    { type: 'user_left', payload: { userId: 'bob', version: 15 } },
  ], 10)
  const alice = sdk.createClient({ url, token: 'x', WebSocket })
  t.teardown(() => alice.close())
  const bobLeft = nextEvent(alice, 'members', () => alice.members('r')?.users.includes('bob') === false)
  await alice.sendJoinRoom({ room: 'r' })
  await bobLeft
  t.same(alice.members('r'), { users: ['alice', 'carol'], count: 2, complete: true, presence: {} }, 'carol is in, dave is not, bob left last')
})
