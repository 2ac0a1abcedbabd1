/**
 * The Redis adapter's connections, on one Redis (or Sentinel) or on Redis Cluster, behind one
 * shape: a command client, pub/sub on the room and user channels, and their events.
 *
 * Commands fail fast (no offline queue, no retries, no resend): a queued durable publish would be
 * sequenced late, out of order with what the client saw, or twice. ioredis reconnects by itself;
 * its events become the adapter's `up`/`down`/`subscriberReady`.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { withTimeout } from '../timeout.js'
import type { ClusterEvents } from './cluster-roles.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import { defineScripts, type CommandClient, type PublishCommand } from './redis-stores.js'

/** SUBSCRIBE at most this many channels per command. */
const SUBSCRIBE_BATCH = 1000

export interface RedisConnections {
  readonly cmd: CommandClient
  /** True when commands can be sent now. */
  readonly ready: boolean
  /** Connect; rejects when unreachable (ioredis keeps trying, then `up` follows). */
  connect(): Promise<void>
  publish(channel: string, payload: string): Promise<unknown>
  /** Settles once the channels are live; resolves at once while disconnected (`subscriberReady` follows). */
  subscribe(channels: readonly string[]): Promise<void>
  unsubscribe(channel: string): Promise<void>
  close(timeoutMs: number): Promise<void>
}

/** How durable frames are published inside the publish script. */
export function publishCommandOf (options: ResolvedRedisOptions): PublishCommand {
  return options.clusterNodes === undefined ? 'PUBLISH' : 'SPUBLISH'
}

export function createConnections (options: ResolvedRedisOptions, name: string, events: ClusterEvents): RedisConnections {
  return options.clusterNodes === undefined ? standalone(options, name, events) : onCluster(options, options.clusterNodes, name, events)
}

function failFast (options: ResolvedRedisOptions): RedisOptions {
  return {
    connectTimeout: 5000,
    ...options.redisOptions,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
  }
}

/** One Redis (or the master Sentinel names): a command connection and a subscriber connection. */
function standalone (options: ResolvedRedisOptions, name: string, events: ClusterEvents): RedisConnections {
  const common: RedisOptions = {
    ...failFast(options),
    enableOfflineQueue: false,
    // The adapter subscribes again itself, then fetches what pub/sub missed meanwhile.
    autoResubscribe: false,
    retryStrategy: options.retryStrategy,
  }
  const cmd = defineScripts(new Redis(options.url, { ...common, connectionName: `${name}:cmd` }))
  const sub = new Redis(options.url, { ...common, connectionName: `${name}:sub` })
  for (const client of [cmd, sub]) {
    client.on('error', (err: Error) => events.error(err))
    client.on('close', () => events.down())
    client.on('ready', () => { if (cmd.status === 'ready' && sub.status === 'ready') events.up() })
  }
  sub.on('ready', () => events.subscriberReady())
  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => events.message(channel.toString(), message))
  return {
    cmd,
    connect: () => connectAll([cmd.connect(), sub.connect()]),
    get ready () { return cmd.status === 'ready' },
    publish: (channel, payload) => cmd.publish(channel, payload),
    subscribe: async (channels) => {
      if (sub.status !== 'ready') return
      const batches: Array<Promise<unknown>> = []
      for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) batches.push(sub.subscribe(...channels.slice(i, i + SUBSCRIBE_BATCH)))
      await Promise.all(batches)
    },
    unsubscribe: async (channel) => {
      if (sub.status === 'ready') await sub.unsubscribe(channel)
    },
    close: async (timeoutMs) => {
      await withTimeout(Promise.allSettled([cmd.quit(), sub.quit()]), timeoutMs)
      cmd.disconnect()
      sub.disconnect()
    },
  }
}

/**
 * Redis Cluster: one ioredis Cluster client. Commands go to the master of their slot (every
 * script's keys share one room's hash tag); room and user channels use sharded pub/sub, so a
 * frame travels only to the shard that owns its channel. ioredis keeps one sharded subscriber per
 * master and subscribes again after a failover or a slot migration (`subscribersReady`); the
 * adapter then fetches what was missed meanwhile from history.
 */
function onCluster (options: ResolvedRedisOptions, nodes: readonly string[], name: string, events: ClusterEvents): RedisConnections {
  const cluster = new Cluster([...nodes], {
    ...options.clusterOptions,
    lazyConnect: true,
    enableOfflineQueue: false,
    shardedSubscribers: true,
    clusterRetryStrategy: (attempt) => options.retryStrategy(attempt),
    redisOptions: { ...failFast(options), connectionName: `${name}:cmd` },
  })
  const cmd = defineScripts(cluster)
  /** Channels subscribed through ioredis, which re-subscribes them itself after topology changes. */
  const live = new Set<string>()
  cluster.on('error', (err: Error) => events.error(err))
  cluster.on('node error', (err: Error) => events.error(err))
  cluster.on('close', () => events.down())
  cluster.on('ready', () => events.up())
  cluster.on('subscribersReady', () => events.subscriberReady())
  cluster.on('smessageBuffer', (channel: Buffer, message: Buffer) => events.message(channel.toString(), message))
  return {
    cmd,
    connect: () => connectAll([cluster.connect()]),
    get ready () { return cluster.status === 'ready' },
    publish: (channel, payload) => cluster.spublish(channel, payload),
    subscribe: async (channels) => {
      if (cluster.status !== 'ready') return
      // SSUBSCRIBE takes channels of one slot: one command each, sent together.
      await Promise.all(channels.filter((channel) => !live.has(channel)).map(async (channel) => {
        live.add(channel)
        try {
          await cluster.ssubscribe(channel)
        } catch (err) {
          live.delete(channel)
          throw err
        }
      }))
    },
    unsubscribe: async (channel) => {
      if (!live.delete(channel) || cluster.status !== 'ready') return
      await cluster.sunsubscribe(channel)
    },
    close: async (timeoutMs) => {
      await withTimeout(cluster.quit(), timeoutMs)
      cluster.disconnect()
      disconnectLateComers(cluster)
    },
  }
}

/**
 * A slots refresh that ioredis began before the close can finish after it and connect the nodes or
 * sharded subscribers it found, which then retry forever and hold the process open (seen once in
 * a while under load). For a short while, disconnect again whatever came back; unref'd, so this
 * never holds the process itself.
 */
function disconnectLateComers (cluster: Cluster): void {
  const started = Date.now()
  const timer = setInterval(() => {
    cluster.disconnect()
    if (Date.now() - started > LATE_COMER_WINDOW_MS) clearInterval(timer)
  }, 250)
  timer.unref()
}

const LATE_COMER_WINDOW_MS = 10_000

async function connectAll (connecting: Array<Promise<unknown>>): Promise<void> {
  const connected = await Promise.allSettled(connecting)
  const failed = connected.find((result) => result.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}
