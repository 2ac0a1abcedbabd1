/**
 * The Redis backend of `ClusterAdapter`: two ioredis connections (commands, and the subscriber
 * pub/sub needs), the transport on them, and the stores of `redis-stores.ts`.
 *
 * Commands fail fast (no offline queue, no retries, no resend): a queued durable publish would be
 * sequenced late, out of order with what the client saw, or twice. ioredis reconnects by itself;
 * its events become the adapter's `up`/`down`/`subscriberReady`.
 */
import { Redis, type RedisOptions } from 'ioredis'
import { withTimeout } from '../timeout.js'
import type { ClusterBackend, ClusterEvents, Transport } from './cluster-roles.js'
import { RedisKeys } from './redis-keys.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import { RedisPresence } from './redis-presence.js'
import { defineScripts, RedisHistory, type CommandClient } from './redis-stores.js'

/** SUBSCRIBE at most this many channels per command. */
const SUBSCRIBE_BATCH = 1000

export class RedisBackend implements ClusterBackend {
  readonly name = 'redis'
  readonly label = 'Redis'
  /** Every publish is written at once, in call order, on the one command connection. */
  readonly ordersPublishes = true
  readonly keys: RedisKeys
  readonly transport: Transport
  readonly presence: RedisPresence
  readonly history: RedisHistory
  private cmd: CommandClient | undefined
  private sub: Redis | undefined

  constructor (private readonly options: ResolvedRedisOptions) {
    this.keys = new RedisKeys(options.keyPrefix)
    const command = (): CommandClient => this.cmd!
    this.presence = new RedisPresence(command, this.keys)
    this.history = new RedisHistory(command, this.keys, options)
    this.transport = {
      roomChannel: (room) => this.keys.roomChannel(room),
      userChannel: (userId) => this.keys.userChannel(userId),
      publish: (channel, payload) => this.cmd!.publish(channel, payload),
      subscribe: (channels) => this.subscribe(channels),
      unsubscribe: async (channel) => {
        if (this.sub?.status === 'ready') await this.sub.unsubscribe(channel)
      },
    }
  }

  get available (): boolean {
    return this.cmd?.status === 'ready'
  }

  async connect (instanceId: string, events: ClusterEvents): Promise<void> {
    const common: RedisOptions = {
      connectTimeout: 5000,
      ...this.options.redisOptions,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // The adapter subscribes again itself, then fetches what pub/sub missed meanwhile.
      autoResubscribe: false,
      commandTimeout: this.options.commandTimeoutMs,
      retryStrategy: this.options.retryStrategy,
    }
    const name = `${this.keys.prefix}${instanceId}`
    const cmd = defineScripts(new Redis(this.options.url, { ...common, connectionName: `${name}:cmd` }))
    const sub = new Redis(this.options.url, { ...common, connectionName: `${name}:sub` })
    this.cmd = cmd
    this.sub = sub
    for (const client of [cmd, sub]) {
      client.on('error', (err: Error) => events.error(err))
      client.on('close', () => events.down())
      client.on('ready', () => { if (cmd.status === 'ready' && sub.status === 'ready') events.up() })
    }
    sub.on('ready', () => events.subscriberReady())
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => events.message(channel.toString(), message))
    const connected = await Promise.allSettled([cmd.connect(), sub.connect()])
    const failed = connected.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  async close (timeoutMs: number): Promise<void> {
    const { cmd, sub } = this
    if (cmd === undefined || sub === undefined) return
    await withTimeout(Promise.allSettled([cmd.quit(), sub.quit()]), timeoutMs)
    cmd.disconnect()
    sub.disconnect()
  }

  stats (): Record<string, unknown> {
    return { keyPrefix: this.keys.prefix }
  }

  /** Sent now when the subscriber is connected; otherwise on `subscriberReady`, with every wanted channel. */
  private async subscribe (channels: readonly string[]): Promise<void> {
    const sub = this.sub
    if (sub?.status !== 'ready') return
    const batches: Array<Promise<unknown>> = []
    for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) batches.push(sub.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH)))
    await Promise.all(batches)
  }
}

/** The URL without its password, for logs. */
export function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis://…'
  }
}
