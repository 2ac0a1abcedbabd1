/**
 * `defineProtocol()`: how an app declares its own messages next to the built-in ones.
 *
 *   const protocol = defineProtocol()
 *     .server('announcement', { payload: Type.Object({ text: Type.String() }) })
 *     .client('announce', { payload: …, reply: 'ack', handler: (ctx, payload) => … })
 *
 * Each step is a plain generic call, so payload types flow from the schemas into handlers,
 * `ctx.broadcast()` and `app.ws.*` without annotations.
 */
import type { Static, TSchema } from 'typebox'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { builtinClientMessages, builtinServerMessages } from '../schemas/builtin.js'
import { WsRegistrationError } from './errors.js'
import { checkSchemaSupported } from './schema-support.js'
import { isMessageName, MESSAGE_NAME_PATTERN, PresenceMessage } from './protocol/names.js'
import type { PresenceUpdatedPayload, SetPresencePayload } from '../schemas/presence.js'
import { errorCodes } from './protocol/codes.js'
import type { ConnectionData } from './register.js'

export { MESSAGE_NAME_PATTERN }

type BuiltinServerSchemas = { [K in keyof typeof builtinServerMessages]: (typeof builtinServerMessages)[K]['payload'] }

/** Server → client message name → payload schema, built-ins included. */
export type ServerSchemas<S> = BuiltinServerSchemas & S
/** Payload type of server message `K`. */
export type ServerPayload<S, K> = K extends keyof ServerSchemas<S>
  ? (ServerSchemas<S>[K] extends TSchema ? Static<ServerSchemas<S>[K]> : never)
  : never
export type ServerMessageName<S> = keyof ServerSchemas<S> & string

/** The presence state type the protocol declares (`unknown` when it declares none: then setting one throws). */
export type PresenceStateOf<S> = S extends { presence_updated: infer P }
  ? (P extends TSchema ? Exclude<(Static<P> & { state?: unknown })['state'], undefined> : never)
  : unknown

type ReplyOf<S, R> = [R] extends [undefined] ? void : ServerPayload<S, R>

export interface ConnectionInfo {
  readonly id: string
  readonly userId: string
  /** Verified token claims (`{}` when auth is off). */
  readonly claims: Readonly<Record<string, unknown>>
  /** Rooms this connection is in. */
  readonly rooms: ReadonlySet<string>
}

export interface BroadcastOptions {
  /** Members not to deliver to. */
  readonly except?: {
    readonly users?: Iterable<string>
    readonly connections?: Iterable<string>
  }
  /**
   * Makes a durable broadcast safe to retry: a broadcast that failed with `unavailable` may still
   * have been sent (its Redis command timed out after running); retried with the same key in the
   * same room, it is sent once and resolves to the first one's `seq`. Remembered as long as
   * history keeps messages (`historyTtlMs`). Without a key a retry may duplicate.
   * @default undefined (at-least-once on retry)
   */
  readonly idempotencyKey?: string
}

/** What app code can do about a room or user, typed by the protocol's server messages. */
export interface WsActions<S> {
  /** Deliver to every member of `room` on every instance. Resolves to the `seq` given to durable messages. */
  broadcast<K extends ServerMessageName<S>>(room: string, type: K, payload: ServerPayload<S, K>, options?: BroadcastOptions): Promise<number | undefined>
  /** Deliver to every connection of a user, on every instance. */
  sendToUser<K extends ServerMessageName<S>>(userId: string, type: K, payload: ServerPayload<S, K>): Promise<void>
  /** Distinct user ids present in `room`. */
  members(room: string): Promise<string[]>
}

export interface HandlerContext<S> extends WsActions<S> {
  readonly connection: ConnectionInfo
  readonly userId: string
  /** Logger bound to the connection (`connectionId`, `userId`). */
  readonly log: FastifyBaseLogger
  /** The Fastify instance, for calling the app's services. */
  readonly app: FastifyInstance
  /** Join a room on behalf of this connection (presence and `user_joined` as for `join_room`). */
  join(room: string): Promise<void>
  leave(room: string): Promise<void>
  /** Set this connection's presence state in a room it joined, as `set_presence` does (needs `defineProtocol().presence()`). */
  setPresence(room: string, state: PresenceStateOf<S>): Promise<void>
  /** Send a frame to this connection only. */
  send<K extends ServerMessageName<S>>(type: K, payload: ServerPayload<S, K>): void
  /** The app's data for this connection (`auth.authenticate`'s `data`, or set in an `onConnect` hook). @default {} */
  data: ConnectionData
}

export interface MessageDocs<P extends TSchema> {
  summary?: string
  description?: string
  /** Examples of the payload, published in the AsyncAPI document (each must validate). */
  examples?: ReadonlyArray<Static<P>>
}

export interface ServerMessageSpec<P extends TSchema> extends MessageDocs<P> {
  payload: P
  /**
   * Durable messages carry `seq` when delivered to a room and are kept in history for recovery.
   * @default true
   */
  durable?: boolean
}

export interface ClientMessageSpec<S, P extends TSchema, R> extends MessageDocs<P> {
  payload: P
  /** The server message that answers this request; without it a request with an `id` gets `ack`. */
  reply?: R
  handler: (ctx: HandlerContext<S>, payload: Static<P>) => ReplyOf<S, R> | Promise<ReplyOf<S, R>>
  /** How long (ms) the handler may run before the request is answered `handler_timeout`; `0`: no limit. @default the plugin's `handlerTimeoutMs` */
  timeoutMs?: number
}

/** Runtime form of a server → client message, built-ins and app-defined alike. */
export interface ServerMessageDef {
  readonly name: string
  readonly payload: TSchema
  readonly durable: boolean
  readonly builtin: boolean
  readonly summary: string | undefined
  readonly description: string | undefined
  readonly examples: readonly unknown[]
}

/** Runtime form of a client → server message. Built-in handlers are attached by the hub. */
export interface ClientMessageDef {
  readonly name: string
  readonly payload: TSchema
  readonly reply: string | undefined
  readonly builtin: boolean
  readonly summary: string | undefined
  readonly description: string | undefined
  readonly examples: readonly unknown[]
  readonly handler: ((ctx: HandlerContext<any>, payload: any) => unknown) | undefined
  /** Overrides the plugin's `handlerTimeoutMs` for this message. */
  readonly timeoutMs?: number
}

/** Built-in chat messages an app may switch off; they then vanish from the catalog, the document and the client. */
export type OptionalBuiltin = 'message' | 'typing'

export interface ProtocolOptions {
  /**
   * Built-in messages to keep. `message: false` drops `message` both ways, `typing: false` drops `typing`.
   * @default { message: true, typing: true }
   */
  builtins?: { readonly [K in OptionalBuiltin]?: boolean }
}

export class Protocol<S = {}, C = {}, E extends string = never> {
  /** @internal type carrier only */
  declare readonly types: { server: S, client: C, errors: E }
  readonly serverMessages = new Map<string, ServerMessageDef>()
  readonly clientMessages = new Map<string, ClientMessageDef>()
  /** App error codes → their meaning, published with the built-in ones. */
  readonly errorCodes = new Map<string, string>()
  readonly disabledBuiltins: ReadonlySet<OptionalBuiltin>
  /** The per-user presence state's schema (`.presence()`); undefined: members carry no state. */
  presenceState: TSchema | undefined = undefined

  constructor (options: ProtocolOptions = {}) {
    const builtins = options.builtins ?? {}
    this.disabledBuiltins = new Set((['message', 'typing'] as const).filter((name) => builtins[name] === false))
  }

  /** Declare an app error code (lower snake_case) with its meaning; `WsError` then accepts it. */
  error<const N extends string> (code: N, description: string): Protocol<S, C, E | N> {
    if (!isMessageName(code)) {
      throw new WsRegistrationError('WS_ERR_INVALID_ERROR_CODE', `Error code ${JSON.stringify(code)} must be lower snake_case (${MESSAGE_NAME_PATTERN.source})`)
    }
    if (Object.hasOwn(errorCodes, code) || this.errorCodes.has(code)) {
      throw new WsRegistrationError('WS_ERR_DUPLICATE_ERROR_CODE', `The error code "${code}" is ${this.errorCodes.has(code) ? 'declared twice' : 'built in'}`)
    }
    if (typeof description !== 'string' || description.trim() === '') {
      throw new WsRegistrationError('WS_ERR_INVALID_ERROR_CODE', `Error code "${code}" needs a description (it is published in the AsyncAPI document)`)
    }
    this.errorCodes.set(code, description)
    return this as unknown as Protocol<S, C, E | N>
  }

  /**
   * Declare the presence state members may have in a room (e.g. `online`/`away`, a display name):
   * adds `set_presence` (client → server) and `presence_updated` (server → room), and a `presence`
   * map to `room_joined`, `room_added` and `members_page`. See the README's "Presence state".
   */
  presence<P extends TSchema> (state: P): Protocol<S & { presence_updated: PresenceUpdatedPayload<P> }, C & { set_presence: { payload: SetPresencePayload<P>, reply: undefined } }, E> {
    if (this.presenceState !== undefined) throw new WsRegistrationError('WS_ERR_DUPLICATE_MESSAGE', 'The presence state is declared twice')
    for (const name of Object.values(PresenceMessage)) {
      if (this.serverMessages.has(name) || this.clientMessages.has(name)) {
        throw new WsRegistrationError('WS_ERR_DUPLICATE_MESSAGE', `The message "${name}" is built in with a presence state and cannot be declared by the app`)
      }
    }
    checkSchemaSupported(state, 'the presence state')
    this.presenceState = state
    return this as never
  }

  /** Declare a server → client message. */
  server<const N extends string, P extends TSchema> (name: N, spec: ServerMessageSpec<P>): Protocol<S & { [K in N]: P }, C, E> {
    checkName(name, 'server', builtinServerMessages, this.serverMessages)
    checkSchemaSupported(spec.payload, `server message "${name}"`)
    this.serverMessages.set(name, {
      name,
      payload: spec.payload,
      durable: spec.durable ?? true,
      builtin: false,
      summary: spec.summary,
      description: spec.description,
      examples: spec.examples ?? [],
    })
    return this as unknown as Protocol<S & { [K in N]: P }, C, E>
  }

  /** Declare a client → server message with its handler. Declare the server messages it uses first. */
  client<const N extends string, P extends TSchema, R extends ServerMessageName<S> | undefined = undefined> (
    name: N, spec: ClientMessageSpec<S, P, R>,
  ): Protocol<S, C & { [K in N]: { payload: P, reply: R } }, E> {
    checkName(name, 'client', builtinClientMessages, this.clientMessages)
    checkSchemaSupported(spec.payload, `client message "${name}"`)
    if (typeof spec.handler !== 'function') {
      throw new WsRegistrationError('WS_ERR_MISSING_HANDLER', `Client message "${name}" needs a handler function`)
    }
    if (spec.timeoutMs !== undefined && !(Number.isInteger(spec.timeoutMs) && spec.timeoutMs >= 0)) {
      throw new WsRegistrationError('WS_ERR_INVALID_OPTION', `Client message "${name}": timeoutMs must be an integer ≥ 0`)
    }
    this.clientMessages.set(name, {
      name,
      payload: spec.payload,
      reply: spec.reply,
      builtin: false,
      summary: spec.summary,
      description: spec.description,
      examples: spec.examples ?? [],
      handler: spec.handler,
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    })
    return this as unknown as Protocol<S, C & { [K in N]: { payload: P, reply: R } }, E>
  }
}

/** Start declaring an app's messages. */
export function defineProtocol (options?: ProtocolOptions): Protocol {
  return new Protocol(options)
}

export type AnyProtocol = Protocol<any, any, any>

function checkName (name: string, side: 'server' | 'client', builtins: object, declared: Map<string, unknown>): void {
  if (!isMessageName(name)) {
    throw new WsRegistrationError('WS_ERR_INVALID_MESSAGE_NAME',
      `Message name ${JSON.stringify(name)} must be lower snake_case (${MESSAGE_NAME_PATTERN.source}) so it maps to one client method`)
  }
  if (Object.hasOwn(builtins, name) || (Object.values(PresenceMessage) as string[]).includes(name)) {
    throw new WsRegistrationError('WS_ERR_DUPLICATE_MESSAGE', `The ${side} message "${name}" is built in and cannot be redeclared`)
  }
  if (declared.has(name)) {
    throw new WsRegistrationError('WS_ERR_DUPLICATE_MESSAGE', `The ${side} message "${name}" is declared twice`)
  }
}
