/**
 * Lifecycle hooks (onConnect, onDisconnect, onJoin, onLeave), on the memory adapter and on Redis:
 * what runs, in which order, with which presence flags, and what a failing hook does.
 */
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { CloseCode, WsError, type Adapter } from '../plugin.js'
import { buildApp, connect, joined, until, type TestApp } from './helpers/index.js'
import { useRedis } from './helpers/redis.js'

type Setup = (app: FastifyInstance) => void
type MakeAdapter = () => Adapter | undefined

const redis = await useRedis(t)
const adapters: Array<[string, MakeAdapter]> = [['memory', () => undefined]]
if (redis !== undefined) adapters.push(['redis', () => redis.adapter()])

/** An app whose hooks are added by `setup` once the plugin is registered (as an app would). */
async function appWith (tt: Parameters<typeof buildApp>[0], makeAdapter: MakeAdapter, setup: Setup, options: Parameters<typeof buildApp>[1] = {}): Promise<TestApp> {
  const adapter = makeAdapter()
  return buildApp(tt, { ...(adapter === undefined ? {} : { adapter }), ...options }, undefined, setup)
}

for (const [adapterName, makeAdapter] of adapters) {
  t.test(`${adapterName}: lifecycle hooks`, async (t) => {
    t.test('onConnect runs before `connected`, and its joins reach the client after it', async (t) => {
      const events: string[] = []
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onConnect', async (ctx) => {
          events.push(`connect ${ctx.userId}`)
          await ctx.join(`user:${ctx.userId}`)
        })
        app.ws.addHook('onJoin', (ctx, event) => { events.push(`join ${ctx.userId} ${event.room} first=${event.firstForUser}`) })
      })
      const alice = await connect(t, server, 'alice', { awaitConnected: false })
      const first = await alice.waitFor(() => true)
      t.equal(first.type, 'connected', '`connected` is still the first frame')
      const auto = await alice.waitFor('room_joined')
      t.equal(auto.payload.room, 'user:alice', 'the hook\'s join is announced to the client')
      t.same(events, ['connect alice', 'join alice user:alice first=true'])
      const reply = await alice.request('ping', {})
      t.equal(reply.type, 'pong', 'frames are processed once the hooks are done')
    })

    t.test('app.ws.addToRoom from onConnect adds the connection once it is greeted: room_added after `connected`', async (t) => {
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onConnect', async (ctx) => {
          await app.ws.addToRoom({ userId: ctx.userId, connectionId: ctx.connection.id }, 'focus')
          await app.ws.addToRoom({ userId: ctx.userId }, `team:${ctx.userId}`)
        })
      })
      const bob = await connect(t, server, 'bob')
      await joined(bob, 'focus')
      const alice = await connect(t, server, 'alice', { awaitConnected: false })
      t.equal((await alice.waitFor(() => true)).type, 'connected', '`connected` is still the first frame')
      const first = await alice.waitFor('room_added')
      t.match(first.payload, { room: 'focus' }, 'the control aimed at this connection is applied, not dropped')
      t.same([...first.payload.members].sort(), ['alice', 'bob'])
      t.match((await alice.waitFor('room_added')).payload, { room: 'team:alice' }, 'so is one aimed at the user, in order')
      t.equal((await bob.waitFor('user_joined')).payload.userId, 'alice', 'the room hears the arrival')
      t.same((await server.app.ws.members('focus')).sort(), ['alice', 'bob'])
      await bob.request('message', { room: 'focus', content: 'hi' })
      t.equal((await alice.waitFor('message')).payload.content, 'hi', 'room messages reach the added connection')
    })

    t.test('onJoin and onLeave tell the first connection of a user in a room from the next, and the last one from the others', async (t) => {
      const events: string[] = []
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onJoin', (ctx, { room, firstForUser }) => { events.push(`join ${ctx.userId} ${room} ${firstForUser}`) })
        app.ws.addHook('onLeave', async (ctx, { room, lastForUser, disconnecting }) => { events.push(`leave ${ctx.userId} ${room} ${lastForUser} ${disconnecting}`) })
        app.ws.addHook('onDisconnect', (ctx) => { events.push(`disconnect ${ctx.userId}`) })
      })
      const tab1 = await connect(t, server, 'bob')
      const tab2 = await connect(t, server, 'bob')
      await joined(tab1, 'general')
      await joined(tab2, 'general')
      t.same(events.splice(0), ['join bob general true', 'join bob general false'])
      const left = await tab1.request('leave_room', { room: 'general' })
      t.equal(left.type, 'room_left')
      t.same(events.splice(0), ['leave bob general false false'], 'another tab is still there')
      await tab2.close()
      await until(() => events.length === 2, 'the closing tab\'s hooks ran')
      t.same(events, ['leave bob general true true', 'disconnect bob'], 'onLeave (last tab) runs before onDisconnect')
    })

    t.test('an onConnect hook that throws a WsError refuses the connection with 4003 and its code; onDisconnect does not run', async (t) => {
      let disconnects = 0
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onConnect', (ctx) => {
          if (ctx.userId === 'mallory') throw new WsError('forbidden', 'Banned until tomorrow')
        })
        app.ws.addHook('onDisconnect', () => { disconnects++ })
      })
      const mallory = await connect(t, server, 'mallory', { awaitConnected: false })
      const closed = await mallory.closed
      t.same(closed, { code: CloseCode.ConnectionRefused, reason: 'forbidden: Banned until tomorrow' })
      t.notOk(mallory.frames.some((frame) => frame.type === 'connected'), 'a refused connection is never greeted')
      const alice = await connect(t, server, 'alice')
      t.ok(alice.isOpen, 'others still connect')
      t.equal(disconnects, 0, 'onDisconnect runs only for accepted connections')
    })

    t.test('a connection refused by onConnect leaves the user\'s other connections reachable by user-targeted messages', async (t) => {
      let connects = 0
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onConnect', () => {
          if (++connects === 2) throw new WsError('forbidden', 'Second tab refused')
        })
      })
      const first = await connect(t, server, 'alice')
      const second = await connect(t, server, 'alice', { awaitConnected: false })
      t.equal((await second.closed).code, CloseCode.ConnectionRefused)
      await server.app.ws.addToRoom({ userId: 'alice' }, 'after')
      t.equal((await first.waitFor('room_added')).payload.room, 'after', 'the user\'s channel still reaches the first tab')
    })

    t.test('an onConnect hook that fails or hangs closes with 1011, undoing its joins', async (t) => {
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onConnect', async (ctx) => {
          await ctx.join('lobby')
          if (ctx.userId === 'hang') return new Promise<void>(() => {})
          throw new Error('database down')
        })
      }, { hookTimeoutMs: 200 })
      const failing = await connect(t, server, 'crash', { awaitConnected: false })
      t.same(await failing.closed, { code: CloseCode.InternalError, reason: 'Internal error' })
      const hanging = await connect(t, server, 'hang', { awaitConnected: false })
      t.same(await hanging.closed, { code: CloseCode.InternalError, reason: 'Internal error' }, 'a hook that never settles is bounded by hookTimeoutMs')
      const members = await server.app.ws.members('lobby')
      t.same(members, [], 'the refused connections left the rooms their hook joined')
    })

    t.test('an onJoin hook that throws undoes the join and answers the request with its error', async (t) => {
      const left: string[] = []
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onJoin', (_ctx, { room }) => {
          if (room === 'full') throw new WsError('room_limit', 'This room is full')
          if (room === 'broken') throw new Error('bug')
        })
        app.ws.addHook('onLeave', (_ctx, { room }) => { left.push(room) })
      })
      const alice = await connect(t, server, 'alice')
      const full = await alice.request('join_room', { room: 'full' })
      t.same(full.payload, { code: 'room_limit', message: 'This room is full' })
      const broken = await alice.request('join_room', { room: 'broken' })
      t.equal(broken.payload.code, 'internal_error')
      t.same(await server.app.ws.members('full'), [], 'the join was undone')
      t.same(left, [], 'onLeave does not run for a join that never completed')
      const ok = await joined(alice, 'general')
      t.same(ok.payload.members, ['alice'])
    })

    t.test('an onLeave hook that throws answers leave_room with internal_error; the room is left anyway', async (t) => {
      const server = await appWith(t, makeAdapter, (app) => {
        app.ws.addHook('onLeave', () => { throw new Error('audit log down') })
      })
      const alice = await connect(t, server, 'alice')
      await joined(alice, 'general')
      const reply = await alice.request('leave_room', { room: 'general' })
      t.equal(reply.payload.code, 'internal_error')
      t.same(await server.app.ws.members('general'), [])
    })
  })
}

t.test('hooks cannot be added once the app is ready, nor under an unknown name', async (t) => {
  const server = await buildApp(t)
  t.throws(() => server.app.ws.addHook('onConnect', () => {}), { code: 'WS_ERR_HOOK_AFTER_READY' })
  // @ts-expect-error not a hook name
  t.throws(() => server.app.ws.addHook('onSomething', () => {}), { code: 'WS_ERR_UNKNOWN_HOOK' })
})

t.test('a failing hook is logged with its connection, user and hook or message type', async (t) => {
  const lines: Array<Record<string, any>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  const server = await buildApp(t, {}, undefined, (app) => {
    app.ws.addHook('preHandler', (_ctx, message) => { if (message.type === 'typing') throw new Error('moderation service down') })
    app.ws.addHook('onDisconnect', () => { throw new Error('last-seen store down') })
  }, { logger: { level: 'error', stream } })
  const alice = await connect(t, server, 'alice')
  await joined(alice, 'general')
  t.equal((await alice.request('typing', { room: 'general' })).payload.code, 'internal_error')
  const handlerLog = lines.find((line) => line.err?.message === 'moderation service down')
  t.match(handlerLog, { userId: 'alice', messageType: 'typing', connectionId: String }, 'logged with the connection\'s context')
  await alice.close()
  await until(() => lines.some((line) => line.err?.message === 'last-seen store down'), 'the onDisconnect failure is logged')
  t.match(lines.find((line) => line.err?.message === 'last-seen store down'), { userId: 'alice', hook: 'onDisconnect', msg: 'onDisconnect hook failed' })
})

t.test('on Redis, firstForUser and lastForUser are cluster-wide: tabs of one user on two instances', { skip: redis === undefined && 'no Redis' }, async (t) => {
  const events: string[] = []
  const instance = async (name: string): Promise<TestApp> => buildApp(t, { adapter: redis!.adapter() }, undefined, (app) => {
    app.ws.addHook('onJoin', (ctx, { room, firstForUser }) => { events.push(`${name} join ${ctx.userId} ${room} first=${firstForUser}`) })
    app.ws.addHook('onLeave', (ctx, { room, lastForUser }) => { events.push(`${name} leave ${ctx.userId} ${room} last=${lastForUser}`) })
  })
  const a = await instance('A')
  const b = await instance('B')
  const tabOnA = await connect(t, a, 'bob')
  const tabOnB = await connect(t, b, 'bob')
  await joined(tabOnA, 'general')
  await joined(tabOnB, 'general')
  t.same(events.splice(0), ['A join bob general first=true', 'B join bob general first=false'])
  await tabOnA.close()
  await until(() => events.length === 1, 'instance A ran onLeave')
  await tabOnB.close()
  await until(() => events.length === 2, 'instance B ran onLeave')
  t.same(events, ['A leave bob general last=false', 'B leave bob general last=true'])
})
