/**
 * One @fastify/websocket per app, the one this plugin registers (with its payload limit, client
 * tracking and graceful close). The app's own `{ websocket: true }` routes use it; registering
 * @fastify/websocket again — before or after the plugin — is a coded error that names the fix.
 */
import type { FastifyInstance } from 'fastify'
import { WsRegistrationError } from './errors.js'

/** Fastify's list of the plugin names registered in a context (children inherit it by prototype). */
const kRegisteredPlugins = Symbol.for('registered-plugin')

const FIX = 'Do not register @fastify/websocket yourself: this plugin registers it, and your own { websocket: true } routes use that one ' +
  '(set maxPayload and perMessageDeflate on fastify-ws-rooms; listen for \'error\' on your sockets)'

/** Before: the app (or this plugin, in this context) registered @fastify/websocket already. */
export function assertNoWebsocketYet (app: FastifyInstance): void {
  if (!app.hasDecorator('websocketServer')) return
  throw new WsRegistrationError('WS_ERR_WEBSOCKET_REGISTERED',
    '@fastify/websocket is already registered: its maxPayload and close hook would override this plugin\'s limits and graceful shutdown. ' + FIX)
}

/**
 * After: a second @fastify/websocket throws `FST_ERR_DEC_ALREADY_PRESENT` synchronously from its
 * plugin function, which avvio runs without a try/catch: an uncaught exception, the process gone.
 * Fastify records a plugin's name before it runs it, inside the step whose errors avvio passes to
 * `register`/`ready()`; refusing the name there turns the crash into that rejection. The list of
 * every context created below this one inherits the refusal.
 */
export function refuseLaterWebsocket (app: FastifyInstance): void {
  const names = (app as unknown as Record<symbol, { push?: unknown } | undefined>)[kRegisteredPlugins]
  if (typeof names?.push !== 'function') return
  const push = names.push as (...items: unknown[]) => number
  Object.defineProperty(names, 'push', {
    configurable: true,
    writable: true,
    value: function refuseWebsocket (this: unknown, ...items: unknown[]): number {
      if (items.includes('@fastify/websocket')) {
        throw new WsRegistrationError('WS_ERR_WEBSOCKET_REGISTERED',
          '@fastify/websocket is registered after fastify-ws-rooms, which registered it already (a second one would crash the process). ' + FIX)
      }
      return push.apply(this, items)
    },
  })
}
