/**
 * The Redis backend of `ClusterAdapter`: the connections of `redis-connections.ts` (one Redis,
 * Sentinel, or Redis Cluster), the transport on them, and the stores.
 */
import type { ClusterBackend, ClusterEvents, Transport } from './cluster-roles.js'
import { createConnections, publishCommandOf, type RedisConnections } from './redis-connections.js'
import { RedisKeys } from './redis-keys.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import { RedisPresence } from './redis-presence.js'
import { RedisHistory, type CommandClient } from './redis-stores.js'

export class RedisBackend implements ClusterBackend {
  readonly name = 'redis'
  readonly label = 'Redis'
  /** Every publish is written at once, in call order, on the one command connection (per slot on a cluster). */
  readonly ordersPublishes = true
  readonly keys: RedisKeys
  readonly transport: Transport
  readonly presence: RedisPresence
  readonly history: RedisHistory
  private connections: RedisConnections | undefined

  constructor (private readonly options: ResolvedRedisOptions) {
    this.keys = new RedisKeys(options.keyPrefix)
    const command = (): CommandClient => this.connections!.cmd
    this.presence = new RedisPresence(command, this.keys)
    this.history = new RedisHistory(command, this.keys, options, publishCommandOf(options))
    this.transport = {
      roomChannel: (room) => this.keys.roomChannel(room),
      userChannel: (userId) => this.keys.userChannel(userId),
      publish: (channel, payload) => this.connections!.publish(channel, payload),
      subscribe: async (channels) => { await this.connections?.subscribe(channels) },
      unsubscribe: async (channel) => { await this.connections?.unsubscribe(channel) },
    }
  }

  get available (): boolean {
    return this.connections?.ready === true
  }

  async connect (instanceId: string, events: ClusterEvents): Promise<void> {
    this.connections = createConnections(this.options, `${this.keys.prefix}${instanceId}`, events)
    await this.connections.connect()
  }

  async close (timeoutMs: number): Promise<void> {
    await this.connections?.close(timeoutMs)
  }

  stats (): Record<string, unknown> {
    return { keyPrefix: this.keys.prefix, ...this.options.clusterNodes === undefined ? {} : { cluster: true } }
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
