/**
 * Message hooks (preHandler, onPublish) and publish authorisation, on the memory adapter and on
 * Redis: rejection, payload replacement, storing a message with its `seq`, the order they run in.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { defineProtocol, WsError, wsOf, type Adapter } from '../plugin.js'
import { buildApp, connect, joined, type TestApp } from './helpers/index.js'
import { useRedis } from './helpers/redis.js'

type MakeAdapter = () => Adapter | undefined

const redis = await useRedis(t)
const adapters: Array<[string, MakeAdapter]> = [['memory', () => undefined]]
if (redis !== undefined) adapters.push(['redis', () => redis.adapter()])

const protocol = defineProtocol()
  .server('echoed', { payload: Type.Object({ text: Type.String() }) })
  .client('echo', {
    payload: Type.Object({ text: Type.String({ maxLength: 20 }) }),
    reply: 'echoed',
    handler: (_ctx, { text }) => ({ text }),
  })

async function appWith (tt: Parameters<typeof buildApp>[0], makeAdapter: MakeAdapter, setup: (app: FastifyInstance) => void, options: Parameters<typeof buildApp>[1] = {}): Promise<TestApp> {
  const adapter = makeAdapter()
  return buildApp(tt, { protocol, ...(adapter === undefined ? {} : { adapter }), ...options }, undefined, setup)
}

for (const [adapterName, makeAdapter] of adapters) {
  t.test(`${adapterName}: message hooks`, async (t) => {
    t.test('preHandler hooks see every client message, built-ins included, and may reject one with a WsError', async (t) => {
      const seen: string[] = []
      const server = await appWith(t, makeAdapter, (app) => {
        wsOf(app, protocol).addHook('preHandler', (ctx, message) => {
          seen.push(message.type)
          if (message.type === 'join_room' && message.payload.room === 'staff' && ctx.userId !== 'boss') {
            throw new WsError('forbidden', 'Staff only')
          }
        })
      })
      const alice = await connect(t, server, 'alice')
      const refused = await alice.request('join_room', { room: 'staff' })
      t.same(refused.payload, { code: 'forbidden', message: 'Staff only' })
      t.same(await server.app.ws.members('staff'), [], 'the handler did not run')
      await joined(alice, 'general')
      await alice.request('message', { room: 'general', content: 'hi' })
      await alice.request('echo', { text: 'x' })
      await alice.request('ping', {})
      t.same(seen, ['join_room', 'join_room', 'message', 'echo', 'ping'])
    })

    t.test('a preHandler hook may replace the payload (moderation); a replacement the schema refuses is internal_error', async (t) => {
      const server = await appWith(t, makeAdapter, (app) => {
        wsOf(app, protocol).addHook('preHandler', async (_ctx, message) => {
          if (message.type === 'message') message.payload = { ...message.payload, content: message.payload.content.replaceAll('darn', '****') }
          if (message.type === 'echo') message.payload = { text: message.payload.text.repeat(30) }
        })
      })
      const alice = await connect(t, server, 'alice')
      const bob = await connect(t, server, 'bob')
      await joined(alice, 'general')
      await joined(bob, 'general')
      await alice.request('message', { room: 'general', content: 'darn it' })
      const received = await bob.waitFor('message')
      t.equal(received.payload.content, '**** it', 'members receive the replaced payload')
      const echo = await alice.request('echo', { text: 'long' })
      t.equal(echo.payload.code, 'internal_error', 'an invalid replacement is the app\'s bug, not the client\'s')
    })

    t.test('onPublish sees a message with the seq it was broadcast with, before the sender\'s ack; hooks run in order', async (t) => {
      const order: string[] = []
      const stored: Array<{ room: string, seq: number, content: string }> = []
      const server = await appWith(t, makeAdapter, (app) => {
        const ws = wsOf(app, protocol)
        ws.addHook('preHandler', (_ctx, message) => { order.push(`preHandler ${message.type}`) })
        ws.addHook('onPublish', async (ctx, published) => {
          order.push(`onPublish ${published.type}`)
          if (published.type === 'message') {
            stored.push({ room: published.room, seq: published.seq, content: published.payload.content })
            if (published.payload.content === 'fail') throw new Error('database down')
          }
          ctx.log.debug('stored')
        })
      })
      const alice = await connect(t, server, 'alice')
      const bob = await connect(t, server, 'bob')
      await joined(alice, 'general')
      await joined(bob, 'general')
      const ack = await alice.request('message', { room: 'general', content: 'one' })
      t.equal(ack.type, 'ack')
      t.same(order, ['preHandler join_room', 'preHandler join_room', 'preHandler message', 'onPublish message'])
      const delivered = await bob.waitFor('message')
      t.same(stored, [{ room: 'general', seq: delivered.seq, content: 'one' }], 'stored with the seq members got')
      await alice.request('typing', { room: 'general' })
      t.equal(order.at(-1), 'onPublish typing')
      const failed = await alice.request('message', { room: 'general', content: 'fail' })
      t.equal(failed.payload.code, 'internal_error', 'a failing onPublish hook answers internal_error')
    })

    t.test('authorizePublish keeps read-only rooms and user inboxes to the server', async (t) => {
      const server = await appWith(t, makeAdapter, () => {}, {
        authorizePublish: async (user, room, type) => !room.startsWith('user:') && (room !== 'announcements' || (user.claims.role === 'admin' && type === 'message')),
      })
      const alice = await connect(t, server, 'alice')
      await joined(alice, 'announcements')
      await joined(alice, 'user:alice')
      const refused = await alice.request('message', { room: 'announcements', content: 'hello' })
      t.same(refused.payload, { code: 'forbidden', message: 'Not allowed to send "message" to room "announcements"' })
      t.equal((await alice.request('typing', { room: 'user:alice' })).payload.code, 'forbidden')
      t.ok(await alice.expectNone('message'), 'nothing was published')
      await server.app.ws.broadcast('user:alice', 'message', { userId: 'system', content: 'welcome', ts: 1 })
      t.equal((await alice.waitFor('message')).payload.content, 'welcome', 'the server still writes to the inbox')
      const general = await joined(alice, 'general')
      t.equal(general.type, 'room_joined')
      t.equal((await alice.request('message', { room: 'general', content: 'ok' })).type, 'ack', 'other rooms are unchanged')
    })
  })
}

t.test('a preHandler hook that never settles is bounded by hookTimeoutMs and answered internal_error', async (t) => {
  const server = await buildApp(t, { hookTimeoutMs: 100 }, undefined, (app) => {
    app.ws.addHook('preHandler', async (_ctx, message) => {
      if (message.type === 'typing') await new Promise(() => {})
    })
  })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  t.equal((await alice.request('typing', { room: 'general' })).payload.code, 'internal_error')
  t.equal((await alice.request('ping', {})).type, 'pong', 'the connection goes on')
})
