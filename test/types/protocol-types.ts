/**
 * Compile-time checks of the public API (checked by test/typecheck.test.ts with tsc).
 * Every `@ts-expect-error` line must fail to compile; if one compiles, tsc reports it.
 */
import Fastify from 'fastify'
import { Type } from 'typebox'
import { defineProtocol, WsError, wsOf } from '../../plugin.js'
import '../../examples/chat/protocol.js'

const protocol = defineProtocol()
  .server('score', { payload: Type.Object({ points: Type.Integer() }) })
  .client('add', {
    payload: Type.Object({ n: Type.Number() }),
    reply: 'score',
    handler: (ctx, payload) => {
      const n: number = payload.n
      // @ts-expect-error payloads are typed from their schema
      void payload.missing
      void ctx.broadcast('room', 'score', { points: n })
      // @ts-expect-error handlers may only broadcast declared types
      void ctx.broadcast('room', 'undeclared', {})
      return { points: n }
    },
  })
  .client('wrong_reply', {
    payload: Type.Object({}),
    reply: 'score',
    // @ts-expect-error the reply must match the declared reply's schema
    handler: () => ({ points: 'many' }),
  })
  .client('no_reply', {
    payload: Type.Object({}),
    handler: async () => {},
  })

defineProtocol().client('bad', {
  payload: Type.Object({}),
  // @ts-expect-error a reply must name a declared server message
  reply: 'not_declared',
  // @ts-expect-error …and the handler then cannot satisfy it either
  handler: () => {},
})

const app = Fastify()
const ws = wsOf(app, protocol)
void ws.broadcast('room', 'score', { points: 1 })
void ws.broadcast('room', 'message', { userId: 'u', content: 'built-ins too', ts: 1 })
// @ts-expect-error wrong payload type
void ws.broadcast('room', 'score', { points: '1' })
// @ts-expect-error unknown message type
void ws.broadcast('room', 'nope', {})
// @ts-expect-error sendToUser checks payloads too
void ws.sendToUser('u', 'score', {})

// The example registers its protocol (module augmentation), so `app.ws` itself is typed.
void app.ws.broadcast('general', 'reaction', { userId: 'a', seq: 1, emoji: '👍' })
// @ts-expect-error missing fields
void app.ws.broadcast('general', 'reaction', { emoji: '👍' })

// Hooks are typed by the protocol: messages are discriminated by `type`, events carry their flags.
ws.addHook('preHandler', (ctx, message) => {
  if (message.type === 'add') message.payload = { n: message.payload.n + 1 }
  // @ts-expect-error a replacement payload must match its message's schema
  if (message.type === 'add') message.payload = { n: 'one' }
  if (message.type === 'message') {
    const content: string = message.payload.content
    void content
  }
  // @ts-expect-error not a client message of this protocol
  if (message.type === 'nope') return
  void ctx.data
})
ws.addHook('onJoin', (_ctx, event) => { const first: boolean = event.firstForUser; void first })
// @ts-expect-error onLeave events have no firstForUser
ws.addHook('onLeave', (_ctx, event) => { void event.firstForUser })
ws.addHook('onPublish', (_ctx, published) => {
  if (published.type === 'message') { const seq: number = published.seq; void seq }
  // @ts-expect-error typing has no seq
  if (published.type === 'typing') { const seq: number = published.seq; void seq }
})
// @ts-expect-error not a hook name
ws.addHook('onSomething', () => {})
// @ts-expect-error an app error code the registered (chat) protocol does not declare
void new WsError('no_such_code', 'no')
void new WsError('forbidden', 'built-in codes always type-check')

// Presence state: typed from the `.presence()` schema on app.ws, in handlers and on the emitter.
const withPresence = defineProtocol()
  .presence(Type.Object({ status: Type.Union([Type.Literal('online'), Type.Literal('away')]) }))
  .client('go_away', {
    payload: Type.Object({ room: Type.String() }),
    handler: async (ctx, { room }) => {
      await ctx.setPresence(room, { status: 'away' })
      // @ts-expect-error a state the schema does not allow
      await ctx.setPresence(room, { status: 'asleep' })
    },
  })
const presenceWs = wsOf(Fastify(), withPresence)
void presenceWs.setPresence({ userId: 'alice' }, 'lobby', { status: 'online' })
// @ts-expect-error a state the schema does not allow
void presenceWs.setPresence({ userId: 'alice' }, 'lobby', { status: 'asleep' })
presenceWs.addHook('onJoin', async (ctx, { room }) => { await ctx.setPresence(room, { status: 'online' }) })
