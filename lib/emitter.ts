/**
 * Publish from anywhere: a process with no WebSocket server (a worker, a cron job, another
 * service) sends typed messages into rooms and to users, and controls users' connections, through
 * the Redis the servers' `RedisAdapter` uses. It writes exactly what an instance writes: a durable
 * room message is one step of the same history store (next `seq`, kept in history, published), so
 * members on every instance receive it in `seq` order and a client that reconnects recovers it.
 *
 * Runtime imports: ioredis and this package's browser-safe protocol and Redis layout; no Fastify,
 * no `ws`. Exported as `fastify-ws-rooms/emitter`.
 */
import { Redis, type RedisOptions } from 'ioredis'
import { builtinServerMessages } from '../schemas/builtin.js'
import { encodeRoomEnvelope } from './adapters/envelope.js'
import { invalidOption, WsError, WsRegistrationError } from './errors.js'
import { RedisKeys } from './adapters/redis-keys.js'
import { resolveRedisOptions, type RedisAdapterOptions } from './adapters/redis-options.js'
import { RedisPresence } from './adapters/redis-presence.js'
import { defineScripts, RedisHistory, type CommandClient } from './adapters/redis-stores.js'
import { buildControl, buildPresenceControl, encodeUserControl, type ControlTarget, type UserControl } from './control-message.js'
import { Compile } from 'typebox/compile'
import type { WsControl } from './control.js'
import type { BroadcastOptions, PresenceStateOf, Protocol, ServerMessageName, ServerPayload, WsActions } from './define.js'
import { encodeFrame, roomFrameParts } from './protocol/stringify.js'
import { assertRoomName } from './room-name.js'
import { toExclusions } from './exclusions.js'

export interface WsEmitterOptions<S = {}> extends Pick<RedisAdapterOptions, 'url' | 'redisOptions' | 'keyPrefix' | 'historySize' | 'historyTtlMs' | 'sequenceTtlMs' | 'commandTimeoutMs'> {
  /**
   * The app's protocol (from `defineProtocol()`): types the messages, and says which are durable.
   * Without it only the built-in server messages can be sent.
   * @default the built-in messages only
   */
  protocol?: Protocol<S, unknown, string>
  /**
   * An ioredis client to publish with instead of connecting to `url` (the emitter does not close
   * it). Use the same `keyPrefix`, `historySize`, `historyTtlMs` and `sequenceTtlMs` as the servers'
   * `RedisAdapter`: they decide where a room's `seq` and history live and how long they are kept.
   * @default a client of its own, to `url`
   */
  redis?: Redis
}

/** Types and durability of the server messages an emitter may send. */
type Durability = ReadonlyMap<string, boolean>

export class WsEmitter<S = {}> implements WsActions<S>, WsControl {
  private readonly cmd: CommandClient
  /** The connection itself, for closing it. */
  private readonly client: Redis
  private readonly keys: RedisKeys
  private readonly history: RedisHistory
  private readonly presence: RedisPresence
  private readonly durable: Durability
  private readonly ownsClient: boolean
  /** Checks a presence state against the protocol's `.presence()` schema; undefined when none is declared. */
  private readonly presenceCheck: ((state: unknown) => boolean) | undefined

  constructor (options: WsEmitterOptions<S> = {}) {
    const { redis, protocol, ...redisOptions } = options
    const resolved = resolveRedisOptions(redisOptions)
    // ioredis prefixes keys but not channels: the servers would see neither at the right place.
    if ((redis?.options.keyPrefix ?? resolved.redisOptions.keyPrefix ?? '') !== '') {
      throw invalidOption('redis.options.keyPrefix', 'unset (use the emitter\'s own keyPrefix option)', redis?.options.keyPrefix ?? resolved.redisOptions.keyPrefix)
    }
    this.ownsClient = redis === undefined
    const client = redis ?? new Redis(resolved.url, {
      commandTimeout: resolved.commandTimeoutMs,
      ...resolved.redisOptions,
      // A command lost with its connection is not sent again: a durable message would get two seqs.
      autoResendUnfulfilledCommands: false,
    } satisfies RedisOptions)
    this.client = client
    this.cmd = defineScripts(client)
    this.keys = new RedisKeys(resolved.keyPrefix)
    this.history = new RedisHistory(() => this.cmd, this.keys, resolved)
    this.presence = new RedisPresence(() => this.cmd, this.keys)
    this.durable = durability(protocol)
    const state = protocol?.presenceState
    if (state !== undefined) {
      const validator = Compile(state)
      this.presenceCheck = (value) => validator.Check(value)
    }
  }

  /**
   * Deliver to every member of `room` on every instance, as `app.ws.broadcast` does. Resolves to
   * the `seq` given to a durable message (undefined for ephemeral ones).
   */
  async broadcast<K extends ServerMessageName<S>> (room: string, type: K, payload: ServerPayload<S, K>, options?: BroadcastOptions): Promise<number | undefined> {
    const durable = this.declared(type)
    assertRoomName(room)
    const frame = roomFrameParts(type, room, payload)
    const except = toExclusions(options)
    const channel = this.keys.roomChannel(room)
    if (durable) return await this.history.append(room, channel, frame, except, options?.idempotencyKey)
    await this.cmd.publish(channel, encodeRoomEnvelope(except, frame.head + frame.tail))
    return undefined
  }

  /** Deliver to every connection of a user, on every instance. */
  async sendToUser<K extends ServerMessageName<S>> (userId: string, type: K, payload: ServerPayload<S, K>): Promise<void> {
    this.declared(type)
    await this.cmd.publish(this.keys.userChannel(userId), encodeFrame(type, payload))
  }

  /** Distinct user ids present in `room`, cluster-wide. */
  async members (room: string): Promise<string[]> {
    return await this.presence.members(room)
  }

  /** As `app.ws.addToRoom`. */
  async addToRoom (target: ControlTarget, room: string): Promise<void> {
    await this.control(target.userId, buildControl('join', target, room))
  }

  /** As `app.ws.removeFromRoom`. */
  async removeFromRoom (target: ControlTarget, room: string, reason?: string): Promise<void> {
    await this.control(target.userId, buildControl('remove', target, room, reason))
  }

  /** As `app.ws.disconnect`. */
  async disconnect (target: ControlTarget, reason?: string): Promise<void> {
    await this.control(target.userId, buildControl('disconnect', target, undefined, reason))
  }

  /** As `app.ws.setPresence` (needs the protocol, with its `.presence()` schema). */
  async setPresence (target: ControlTarget, room: string, state: PresenceStateOf<S>): Promise<void> {
    if (this.presenceCheck === undefined) throw new WsRegistrationError('WS_ERR_NO_PRESENCE_STATE', 'setPresence() needs the protocol, with a presence state: new WsEmitter({ protocol })')
    if (!this.presenceCheck(state)) throw new WsError('invalid_message', 'The presence state breaks the protocol\'s presence schema')
    await this.control(target.userId, buildPresenceControl(target, room, state))
  }

  /** Close the emitter's own Redis connection (a client passed as `redis` is left open). */
  async close (): Promise<void> {
    if (!this.ownsClient) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }

  private async control (userId: string, control: UserControl): Promise<void> {
    await this.cmd.publish(this.keys.userChannel(userId), encodeUserControl(control))
  }

  /** Whether `type` is durable; unknown types are a bug in the caller. */
  private declared (type: string): boolean {
    const durable = this.durable.get(type)
    if (durable === undefined) throw new TypeError(`Unknown server message type "${type}": declare it with defineProtocol().server() and pass the protocol to the emitter`)
    return durable
  }
}

function durability (protocol: Pick<Protocol, 'serverMessages'> | undefined): Durability {
  const durable = new Map<string, boolean>()
  for (const [name, spec] of Object.entries(builtinServerMessages)) durable.set(name, 'durable' in spec && spec.durable)
  for (const def of protocol?.serverMessages.values() ?? []) durable.set(def.name, def.durable)
  return durable
}
