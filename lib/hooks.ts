/**
 * App hooks around the real-time layer (`app.ws.addHook(name, fn)`): their types, typed by the
 * protocol, and the registry that runs them. Hooks of one name run in registration order, one at
 * a time; the first that throws stops the others and its error decides the answer. Each hook is
 * bounded by `hookTimeoutMs`: one that never settles fails like one that throws, nothing hangs.
 * Where each name runs is documented in the README ("Hooks"); the call sites are
 * connection-lifecycle.ts (onConnect), hub.ts (onDisconnect), membership.ts (onJoin, onLeave),
 * dispatch.ts (preHandler) and builtin-handlers.ts (onPublish).
 */
import type { Static, TSchema } from 'typebox'
import type { builtinClientMessages } from '../schemas/builtin.js'
import type { MaybePromise } from './adapter.js'
import type { Connection } from './connection.js'
import type { HandlerContext, ServerPayload } from './define.js'
import { WsRegistrationError } from './errors.js'
import type { InternalHandler } from './handler.js'

type BuiltinClientSchemas = { [K in keyof typeof builtinClientMessages]: { payload: (typeof builtinClientMessages)[K]['payload'] } }
type PayloadOf<M> = M extends { payload: infer P extends TSchema } ? Static<P> : never

/**
 * A client message about to be handled, discriminated by `type`. A `preHandler` hook may replace
 * `payload` (after narrowing on `type`); the new payload is validated again before the handler.
 */
export type IncomingClientMessage<C> = {
  [K in keyof (BuiltinClientSchemas & C) & string]: { readonly type: K, readonly id: string | undefined, payload: PayloadOf<(BuiltinClientSchemas & C)[K]> }
}[keyof (BuiltinClientSchemas & C) & string]

/** A client's built-in publish that went out: `message` (durable, with its `seq`) or `typing`. */
export type PublishedMessage<S> =
  | { readonly room: string, readonly type: 'message', readonly payload: ServerPayload<S, 'message'>, readonly seq: number }
  | { readonly room: string, readonly type: 'typing', readonly payload: ServerPayload<S, 'typing'>, readonly seq: undefined }

export interface JoinEvent {
  readonly room: string
  /** The user's first connection in the room, cluster-wide (`user_joined` was sent). */
  readonly firstForUser: boolean
}

export interface LeaveEvent {
  readonly room: string
  /** The user's last connection in the room left, cluster-wide (`user_left` was sent). */
  readonly lastForUser: boolean
  /** The connection is closing (not a `leave_room` or `ctx.leave`). */
  readonly disconnecting: boolean
}

/** Every hook, by name. Each may be sync or async; `ctx` is the connection's handler context. */
export interface WsHooks<S = {}, C = {}> {
  /** After authentication and admission, before `connected`. Throw `WsError` to refuse (close 4003), anything else closes with 1011. */
  onConnect: (ctx: HandlerContext<S>) => MaybePromise<void>
  /** After a connection that passed `onConnect` closed and left its rooms. Errors are logged. */
  onDisconnect: (ctx: HandlerContext<S>) => MaybePromise<void>
  /** After the connection joined a room, before `room_joined`. A throw undoes the join and answers the request. */
  onJoin: (ctx: HandlerContext<S>, event: JoinEvent) => MaybePromise<void>
  /** After the connection left a room (also when closing). A throw answers `leave_room` with the error. */
  onLeave: (ctx: HandlerContext<S>, event: LeaveEvent) => MaybePromise<void>
  /** Before any client message's handler, built-ins included: throw `WsError` to reject it, assign `message.payload` to replace it. */
  preHandler: (ctx: HandlerContext<S>, message: IncomingClientMessage<C>) => MaybePromise<void>
  /** After a client's `message` got its `seq` (or its `typing` went out), before the sender's `ack`. */
  onPublish: (ctx: HandlerContext<S>, published: PublishedMessage<S>) => MaybePromise<void>
}

export type HookName = keyof WsHooks

const HOOK_NAMES: readonly HookName[] = ['onConnect', 'onDisconnect', 'onJoin', 'onLeave', 'preHandler', 'onPublish']

type AnyHook = (ctx: HandlerContext<any>, event: any) => MaybePromise<void>

/** A hook that did not settle within `hookTimeoutMs`. */
export class HookTimeoutError extends Error {
  constructor (readonly hook: HookName, ms: number) {
    super(`The ${hook} hook did not settle within ${ms} ms`)
    this.name = 'HookTimeoutError'
  }
}

export class Hooks {
  private readonly lists = new Map<HookName, AnyHook[]>()
  private sealed = false

  constructor (private readonly timeoutMs: number) {}

  /** Add a hook. Hooks are fixed once the app is ready (the hot path is built without the unused ones). */
  add (name: HookName, hook: AnyHook): void {
    if (!HOOK_NAMES.includes(name)) {
      throw new WsRegistrationError('WS_ERR_UNKNOWN_HOOK', `Unknown hook ${JSON.stringify(name)}: one of ${HOOK_NAMES.join(', ')}`)
    }
    if (typeof hook !== 'function') throw new WsRegistrationError('WS_ERR_INVALID_HOOK', `The ${name} hook must be a function`)
    if (this.sealed) throw new WsRegistrationError('WS_ERR_HOOK_AFTER_READY', `Add the ${name} hook before the app is ready`)
    const list = this.lists.get(name)
    if (list === undefined) this.lists.set(name, [hook])
    else list.push(hook)
  }

  seal (): void {
    this.sealed = true
  }

  has (name: HookName): boolean {
    return this.lists.has(name)
  }

  /**
   * Run the hooks of `name` in order. Returns undefined when all ran synchronously (no promise on
   * the way), else a promise; a throw, rejection or timeout stops the rest and is rethrown.
   */
  run (name: HookName, ctx: HandlerContext<any>, event?: unknown): MaybePromise<void> {
    const list = this.lists.get(name)
    if (list === undefined) return undefined
    for (let i = 0; i < list.length; i++) {
      const result = list[i]!(ctx, event)
      if (result !== undefined && typeof (result as { then?: unknown }).then === 'function') {
        return this.rest(name, list, i, result as Promise<void>, ctx, event)
      }
    }
    return undefined
  }

  private async rest (name: HookName, list: AnyHook[], at: number, pending: Promise<void>, ctx: HandlerContext<any>, event: unknown): Promise<void> {
    await this.bounded(name, pending)
    for (let i = at + 1; i < list.length; i++) await this.bounded(name, list[i]!(ctx, event))
  }

  private async bounded (name: HookName, result: MaybePromise<void>): Promise<void> {
    if (result === undefined || typeof (result as { then?: unknown }).then !== 'function') return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new HookTimeoutError(name, this.timeoutMs)), this.timeoutMs)
    })
    try {
      await Promise.race([result, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** What running `preHandler` hooks needs: the route's type, validator and handler. */
export interface HookedRoute {
  readonly type: string
  readonly validate: (payload: unknown) => ReadonlyArray<{ path: string, message: string }> | undefined
  readonly run: InternalHandler
}

/**
 * `route.run` behind the `preHandler` hooks: they see `{ type, id, payload }` and may reject it (throw)
 * or replace `payload`; a replaced payload must still match the message's schema (an app bug otherwise).
 */
export function withPreHandler (hooks: Hooks, contextFor: (connection: Connection) => HandlerContext<any>, route: HookedRoute): InternalHandler {
  const { type, validate, run } = route
  return (connection, payload, id) => {
    const message = { type, id, payload: payload as unknown }
    const handle = (): unknown => {
      if (message.payload !== payload) {
        const issues = validate(message.payload)
        if (issues !== undefined) {
          throw new TypeError(`A preHandler hook replaced the "${type}" payload with one its schema refuses: ` +
            issues.map((issue) => `${issue.path} ${issue.message}`).join('; '))
        }
      }
      return run(connection, message.payload, id)
    }
    const ran = hooks.run('preHandler', contextFor(connection), message)
    return ran === undefined ? handle() : ran.then(handle)
  }
}

/** The part of the dispatcher `sealHooks` builds hooks into (dispatch.ts `applyHooks`). */
export interface HookedDispatcher {
  applyHooks(wrap: ((route: HookedRoute) => InternalHandler) | undefined, pipelining: boolean): void
}

/**
 * Fix the hooks once the app is ready and build them into the frame path. With no `preHandler`
 * and no `onPublish` hook the dispatcher is left exactly as it was: unused hooks cost nothing.
 */
export function sealHooks (hooks: Hooks, dispatcher: HookedDispatcher, contextFor: (connection: Connection) => HandlerContext<any>): void {
  hooks.seal()
  const wrap = hooks.has('preHandler') ? (route: HookedRoute) => withPreHandler(hooks, contextFor, route) : undefined
  if (wrap !== undefined || hooks.has('onPublish')) dispatcher.applyHooks(wrap, false)
}
