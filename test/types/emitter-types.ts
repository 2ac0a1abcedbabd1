/**
 * Compile-time checks of the emitter and of server-side control (checked by
 * test/typecheck.test.ts with tsc). Every `@ts-expect-error` line must fail to compile.
 */
import Fastify from 'fastify'
import { Type } from 'typebox'
import { WsEmitter } from '../../emitter.js'
import { defineProtocol } from '../../plugin.js'
import '../../examples/chat/protocol.js'

const protocol = defineProtocol()
  .server('score', { payload: Type.Object({ points: Type.Integer() }) })

export async function emitterIsTypedByTheProtocol (): Promise<void> {
  const emitter = new WsEmitter({ protocol })
  const seq: number | undefined = await emitter.broadcast('room', 'score', { points: 1 })
  void seq
  await emitter.sendToUser('alice', 'message', { userId: 'bot', content: 'hi', ts: 0 })
  // @ts-expect-error payloads follow the message's schema
  await emitter.broadcast('room', 'score', { points: 'many' })
  // @ts-expect-error only declared types
  await emitter.broadcast('room', 'undeclared', {})
  const builtinOnly = new WsEmitter()
  // @ts-expect-error without the protocol, its messages are not known
  await builtinOnly.broadcast('room', 'score', { points: 1 })
  await emitter.addToRoom({ userId: 'alice' }, 'room')
  await emitter.disconnect({ userId: 'alice', connectionId: 'c1' }, 'Banned')
}

export async function controlOnAppWs (): Promise<void> {
  const app = Fastify()
  await app.ws.addToRoom({ userId: 'alice' }, 'team')
  await app.ws.removeFromRoom({ userId: 'alice', connectionId: 'c1' }, 'team', 'Removed')
  await app.ws.disconnect({ userId: 'alice' })
  // @ts-expect-error a target names a user
  await app.ws.addToRoom({ connectionId: 'c1' }, 'team')
  // @ts-expect-error a reason is text
  await app.ws.disconnect({ userId: 'alice' }, 4009)
}
