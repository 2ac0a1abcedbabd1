/**
 * What the server sends is what the document says (issue #14, item 7): an `undefined` payload is
 * refused with a clear error instead of invalid JSON, and in development every outgoing payload
 * is checked against its schema (`validateOutgoing`).
 */
import t from 'tap'
import { Type } from 'typebox'
import { defineProtocol, wsOf, WsOutgoingFrameError } from '../plugin.js'
import { buildApp, connect, joined } from './helpers/index.js'

const Empty = Type.Object({}, { additionalProperties: false })
const protocol = defineProtocol()
  .server('note', { payload: Type.Object({ text: Type.String() }), durable: false })
  .client('send_undefined', { payload: Empty, handler: (ctx) => { ctx.send('note', undefined as never) } })
  .client('send_wrong', { payload: Empty, handler: (ctx) => { ctx.send('note', { text: 42 } as never) } })
  .client('reply_wrong', { payload: Empty, reply: 'note', handler: () => ({ txt: 'typo' }) as never })

t.test('an undefined payload is refused with a clear error, never sent as invalid JSON', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  await t.rejects(wsOf(server.app, protocol).broadcast('general', 'note', undefined as never), { name: 'TypeError', code: 'WS_ERR_INVALID_PAYLOAD', message: /payload of "note" is undefined/ })
  await t.rejects(wsOf(server.app, protocol).sendToUser('alice', 'note', undefined as never), { code: 'WS_ERR_INVALID_PAYLOAD' })
  const reply = await alice.request('send_undefined', {})
  t.equal(reply.payload.code, 'internal_error', 'a handler that does it fails its own request')
  t.ok(await alice.expectNone('note', 50), 'nothing malformed reached the client')
})

t.test('by default (outside production) a payload that breaks its schema is refused with the failing paths', async (t) => {
  const server = await buildApp(t, { protocol })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  await t.rejects(wsOf(server.app, protocol).broadcast('general', 'note', { text: 1 } as never), { name: 'WsOutgoingFrameError', code: 'WS_ERR_INVALID_OUTGOING_FRAME', message: /"note".*\/payload\/text/ })
  await t.rejects(wsOf(server.app, protocol).broadcast('general', 'note', { text: 1 } as never), WsOutgoingFrameError, 'exported for instanceof checks')
  await t.rejects(wsOf(server.app, protocol).sendToUser('alice', 'note', {} as never), { code: 'WS_ERR_INVALID_OUTGOING_FRAME' })
  t.equal((await alice.request('send_wrong', {})).payload.code, 'internal_error')
  t.equal((await alice.request('reply_wrong', {})).payload.code, 'internal_error')
  t.ok(await alice.expectNone('note', 50))
  t.equal((await alice.request('message', { room: 'general', content: 'valid frames still flow' })).type, 'ack')
})

t.test('validateOutgoing: false skips the check (production default)', async (t) => {
  const server = await buildApp(t, { protocol, validateOutgoing: false })
  // Nobody is in the room: what matters is that the broadcast is not refused.
  t.equal(await wsOf(server.app, protocol).broadcast('empty', 'note', { text: 1 } as never), undefined)
  await t.rejects(buildApp(t, { validateOutgoing: 'yes' as never }), { code: 'WS_ERR_INVALID_OPTION' })
})
