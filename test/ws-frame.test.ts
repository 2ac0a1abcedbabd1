import t from 'tap'
import * as ws from 'ws'
import { OutgoingFrame } from '../lib/ws-frame.js'
import { buildApp, connect, joined } from './helpers/index.js'

type FrameFn = (data: Buffer, options: { fin: boolean, opcode: number, mask: boolean, readOnly: boolean, rsv1: boolean }) => Buffer[]

t.test('a frame built once is byte for byte the text frame ws would send, at every length boundary', async (t) => {
  // ws's own framing (its ESM entry exports Sender; @types/ws does not declare it).
  const wsFrame = (ws as unknown as { Sender: { frame: FrameFn } }).Sender.frame
  for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(length, 'a')
    const expected = Buffer.concat(wsFrame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
    t.same(new OutgoingFrame(payload).frame, expected, `${length} bytes`)
  }
})

t.test('a burst of messages sent in one go reaches every member complete and in seq order', async (t) => {
  const server = await buildApp(t)
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  await joined(alice, 'general')
  await joined(bob, 'general')
  const count = 30
  for (let i = 0; i < count; i++) alice.send('message', { room: 'general', content: `m${i}` })
  for (const client of [alice, bob]) {
    for (let i = 0; i < count; i++) {
      const frame = await client.waitFor('message')
      t.match(frame, { seq: i + 1, payload: { content: `m${i}` } })
    }
  }
})

t.test('with permessage-deflate turned on, deliveries go through ws and arrive intact', async (t) => {
  const server = await buildApp(t, { perMessageDeflate: true })
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  t.equal(alice.socket.extensions, 'permessage-deflate', 'compression was negotiated')
  await joined(alice, 'general')
  await joined(bob, 'general')
  const content = 'x'.repeat(2000)
  await alice.request('message', { room: 'general', content })
  t.match(await bob.waitFor('message'), { seq: 1, payload: { userId: 'alice', content } })
})
