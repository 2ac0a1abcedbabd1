/**
 * The Redis adapter: any number of instances share rooms, presence, user-targeted messages, `seq`
 * and history through one Redis (ioredis).
 *
 * - A durable room frame is one Lua step (INCR seq, XADD history, PUBLISH), so every instance —
 *   the origin too — receives a room's frames in `seq` order from pub/sub and delivers them.
 * - Fan-out: one channel per room and one per user, subscribed while this instance has a local
 *   member or connection, so an instance receives only what it delivers.
 * - Presence: per-room hashes plus, per instance, the set of (room, user, connection) it holds and
 *   a heartbeat in a sorted set; survivors reap an instance whose heartbeat is older than
 *   `instanceTimeoutMs` and announce `user_left` for users that leave with it.
 * - Outage: commands fail fast (no offline queue) and the instance serves its local clients (see
 *   README "Redis outage"); clients reconnect by themselves; presence is resynchronised and missed
 *   durable frames are fetched from history when Redis returns.
 */
import { Redis, type RedisOptions } from 'ioredis'
import type { Adapter, AdapterHost, Exclusions, PresenceJoin, Recovery, RoomDelivery, RoomPublish } from '../adapter.js'
import { WsError } from '../errors.js'
import { roomFrameParts } from '../protocol/stringify.js'
import { RoomFeeds, type History } from './redis-feed.js'
import { encodeExclusions, encodeRoomEnvelope, memberRecord, parseMemberRecord, parseRoomEnvelope, RedisKeys } from './redis-keys.js'
import { LocalMembers } from './redis-members.js'
import { resolveRedisOptions, type RedisAdapterOptions, type ResolvedRedisOptions } from './redis-options.js'
import * as scripts from './redis-scripts.js'
import { withTimeout } from '../timeout.js'

export { defaultRedisRetryStrategy, type RedisAdapterOptions } from './redis-options.js'

/** The adapter's scripts, as ioredis `defineCommand` adds them. */
interface Scripted {
  wsPublish(seqKey: string, logKey: string, channel: string, head: string, tail: string, except: string, maxLen: number, ttlMs: number, seqTtlMs: number): Promise<number>
  wsRecover(seqKey: string, logKey: string, since: number, ttlMs: number, maxLen: number): Promise<Array<number | string>>
  wsAddMember(connsKey: string, usersKey: string, connectionId: string, userId: string): Promise<number>
  wsRemoveMember(connsKey: string, usersKey: string, connectionId: string, userId: string): Promise<number>
  wsHeartbeat(instancesKey: string, instanceId: string): Promise<number>
  wsClaimDead(instancesKey: string, timeoutMs: number, limit: number, self: string): Promise<string[]>
  wsTakeSet(key: string): Promise<string[]>
}
type CommandClient = Redis & Scripted

interface Subscription {
  readonly kind: 'room' | 'user'
  readonly name: string
  /** Settles once SUBSCRIBE was answered (or failed: it is retried on reconnect). */
  readonly ready: Promise<void>
}

const REAP_BATCH = 10

export class RedisAdapter implements Adapter {
  /** Every publish is written at once, in call order, on the one command connection. */
  readonly ordersPublishes = true
  private host: AdapterHost | undefined
  private cmd: CommandClient | undefined
  private sub: Redis | undefined
  private readonly keys: RedisKeys
  private readonly options: ResolvedRedisOptions

  private readonly local = new LocalMembers()
  /** userId → local connections, for the user channel's reference count. */
  private readonly userConnections = new Map<string, number>()
  /** channel → what it carries; the channels this instance wants to be subscribed to. */
  private readonly subscriptions = new Map<string, Subscription>()
  private readonly feeds: RoomFeeds
  /** Room frames ready for delivery in this tick, in order (see `flush`). */
  private inbox: RoomDelivery[] = []
  private heartbeat: NodeJS.Timeout | undefined
  private ticking = false
  private registered = false
  private reapNotBefore = 0
  private resyncing: Promise<void> | undefined
  private resyncAgain = false
  private closing = false
  private abandoned = false

  // Outage bookkeeping, for logs and stats().
  private outageSince: number | undefined
  private outages = 0
  private errorLoggedAt = 0
  private lastError: string | undefined
  private reapedInstances = 0
  private fallbacks = 0

  constructor (options: RedisAdapterOptions = {}) {
    this.options = resolveRedisOptions(options)
    this.keys = new RedisKeys(this.options.keyPrefix)
    this.feeds = new RoomFeeds({
      deliver: (room, data, seq, except) => this.deliver({ room, data, seq, except }),
      history: (room, since) => this.history(room, since),
      warn: (obj, msg) => this.host?.log.warn(obj, msg),
    })
  }

  // ── lifecycle ────────────────────────────────────────────────────────────

  async init (host: AdapterHost): Promise<void> {
    this.host = host
    const common: RedisOptions = {
      connectTimeout: 5000,
      ...this.options.redisOptions,
      lazyConnect: true,
      // Fail fast instead of queueing: a queued durable publish would be sequenced late, out of
      // order with what the client saw, or twice.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      commandTimeout: this.options.commandTimeoutMs,
      retryStrategy: this.options.retryStrategy,
    }
    const cmd = new Redis(this.options.url, { ...common, connectionName: `${this.keys.prefix}${host.instanceId}:cmd` }) as CommandClient
    const sub = new Redis(this.options.url, { ...common, connectionName: `${this.keys.prefix}${host.instanceId}:sub` })
    this.cmd = cmd
    this.sub = sub
    cmd.defineCommand('wsPublish', { numberOfKeys: 2, lua: scripts.PUBLISH_DURABLE })
    cmd.defineCommand('wsRecover', { numberOfKeys: 2, lua: scripts.RECOVER })
    cmd.defineCommand('wsAddMember', { numberOfKeys: 2, lua: scripts.ADD_MEMBER })
    cmd.defineCommand('wsRemoveMember', { numberOfKeys: 2, lua: scripts.REMOVE_MEMBER })
    cmd.defineCommand('wsHeartbeat', { numberOfKeys: 1, lua: scripts.HEARTBEAT })
    cmd.defineCommand('wsClaimDead', { numberOfKeys: 1, lua: scripts.CLAIM_DEAD })
    cmd.defineCommand('wsTakeSet', { numberOfKeys: 1, lua: scripts.TAKE_SET })

    for (const client of [cmd, sub]) {
      client.on('error', (err: Error) => this.noteError(err))
      client.on('close', () => this.onDown())
      client.on('ready', () => this.onUp())
    }
    sub.on('ready', () => this.resubscribe())
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message))

    const connected = await Promise.allSettled([cmd.connect(), sub.connect()])
    const failed = connected.find((result) => result.status === 'rejected')
    if (failed !== undefined) {
      // Start anyway: local clients are served and the clients keep reconnecting.
      this.onDown()
      host.log.error({ err: failed.reason, url: redactUrl(this.options.url) }, 'Redis is unreachable at startup: serving local clients only until it answers')
    } else {
      await this.tick()
    }
    this.heartbeat = setInterval(() => { void this.tick() }, this.options.heartbeatIntervalMs)
    this.heartbeat.unref()
  }

  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    clearInterval(this.heartbeat)
    const cmd = this.cmd
    const sub = this.sub
    if (cmd === undefined || sub === undefined) return
    if (!this.abandoned && cmd.status === 'ready') {
      await withTimeout(this.removeOwnPresence(cmd), this.options.closeTimeoutMs)
    }
    await withTimeout(Promise.allSettled([cmd.quit(), sub.quit()]), this.options.closeTimeoutMs)
    cmd.disconnect()
    sub.disconnect()
  }

  /**
   * Stop heartbeats and drop the Redis connections without removing this instance's presence,
   * as a crash would. For failure drills and tests; the instance then serves only local clients.
   * @internal
   */
  simulateCrash (): void {
    this.abandoned = true
    clearInterval(this.heartbeat)
    this.cmd?.disconnect()
    this.sub?.disconnect()
  }

  // ── deliveries ───────────────────────────────────────────────────────────

  async publishToRoom (message: RoomPublish): Promise<number | undefined> {
    const { room, frame, durable, except } = message
    const cmd = this.ready()
    if (durable) {
      if (cmd === undefined) throw unavailable()
      try {
        return await cmd.wsPublish(this.keys.seq(room), this.keys.log(room), this.keys.roomChannel(room),
          frame.head, frame.tail, encodeExclusions(except), this.options.historySize, this.options.historyTtlMs, this.options.sequenceTtlMs)
      } catch (err) {
        this.noteError(err)
        throw unavailable()
      }
    }
    const data = frame.head + frame.tail
    if (cmd !== undefined) {
      try {
        await cmd.publish(this.keys.roomChannel(room), encodeRoomEnvelope(except, data))
        return undefined
      } catch (err) {
        this.noteError(err)
      }
    }
    this.fallbacks++
    this.host!.deliverToRoom(room, Buffer.from(data), undefined, except)
    return undefined
  }

  async publishToUser (userId: string, data: string): Promise<void> {
    const cmd = this.ready()
    if (cmd !== undefined) {
      try {
        await cmd.publish(this.keys.userChannel(userId), data)
        return
      } catch (err) {
        this.noteError(err)
      }
    }
    this.fallbacks++
    this.host!.deliverToUser(userId, Buffer.from(data))
  }

  /** Subscribe to the user's channel before the connection is greeted, so nothing sent after is missed. */
  async addConnection (userId: string): Promise<void> {
    const count = (this.userConnections.get(userId) ?? 0) + 1
    this.userConnections.set(userId, count)
    await this.subscribe(this.keys.userChannel(userId), 'user', userId)
  }

  removeConnection (userId: string): void {
    const count = (this.userConnections.get(userId) ?? 0) - 1
    if (count > 0) {
      this.userConnections.set(userId, count)
      return
    }
    this.userConnections.delete(userId)
    this.unsubscribe(this.keys.userChannel(userId))
  }

  // ── presence ─────────────────────────────────────────────────────────────

  async addMember (room: string, userId: string, connectionId: string): Promise<PresenceJoin> {
    const { firstInRoom, firstForUser } = this.local.add(room, userId, connectionId)
    if (firstInRoom) this.feeds.open(room)
    await this.subscribe(this.keys.roomChannel(room), 'room', room)
    // The connection may have left (or gone) during the SUBSCRIBE round trip: its removal found
    // nothing to remove in Redis yet, so writing the membership now would leave a phantom member.
    if (!this.local.has(room, userId, connectionId)) return { firstForUser: false }
    const cmd = this.ready()
    if (cmd !== undefined) {
      try {
        const [, first] = await Promise.all([
          cmd.sadd(this.keys.instance(this.host!.instanceId), memberRecord(room, userId, connectionId)),
          cmd.wsAddMember(this.keys.conns(room), this.keys.users(room), connectionId, userId),
        ])
        return { firstForUser: first === 1 }
      } catch (err) {
        this.noteError(err)
      }
    }
    this.fallbacks++
    return { firstForUser }
  }

  async removeMember (room: string, userId: string, connectionId: string): Promise<boolean> {
    const { removed, lastInRoom, lastForUser } = this.local.remove(room, userId, connectionId)
    if (!removed) return false
    if (lastInRoom) {
      this.feeds.close(room)
      this.unsubscribe(this.keys.roomChannel(room))
    }
    const cmd = this.ready()
    if (cmd !== undefined) {
      try {
        const [last] = await Promise.all([
          cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), connectionId, userId),
          cmd.srem(this.keys.instance(this.host!.instanceId), memberRecord(room, userId, connectionId)),
        ])
        return last === 1
      } catch (err) {
        this.noteError(err)
      }
    }
    this.fallbacks++
    return lastForUser
  }

  async members (room: string): Promise<string[]> {
    const cmd = this.ready()
    if (cmd !== undefined) {
      try {
        return await cmd.hkeys(this.keys.users(room))
      } catch (err) {
        this.noteError(err)
      }
    }
    this.fallbacks++
    return this.local.users(room)
  }

  // ── seq and history ──────────────────────────────────────────────────────

  async lastSeq (room: string): Promise<number> {
    const cmd = this.ready()
    if (cmd !== undefined) {
      try {
        return Number(await cmd.get(this.keys.seq(room)) ?? 0)
      } catch (err) {
        this.noteError(err)
      }
    }
    return this.feeds.lastSeq(room) ?? 0
  }

  async recover (room: string, since: number): Promise<Recovery> {
    try {
      const history = await this.history(room, since)
      if (!history.recovered) return { recovered: false, frames: [] }
      return { recovered: true, frames: history.frames.map((frame) => ({ seq: frame.seq, data: frame.data, except: frame.except })) }
    } catch (err) {
      this.noteError(err)
      return { recovered: false, frames: [] }
    }
  }

  stats (): Record<string, unknown> {
    return {
      adapter: 'redis',
      keyPrefix: this.keys.prefix,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      instanceTimeoutMs: this.options.instanceTimeoutMs,
      connected: this.outageSince === undefined && !this.abandoned,
      outageSince: this.outageSince === undefined ? undefined : new Date(this.outageSince).toISOString(),
      outages: this.outages,
      lastError: this.lastError,
      localFallbacks: this.fallbacks,
      subscriptions: this.subscriptions.size,
      rooms: this.local.rooms,
      reapedInstances: this.reapedInstances,
      gapsFilled: this.feeds.gapsFilled,
    }
  }

  // ── internals ────────────────────────────────────────────────────────────

  /** The command client when it can take commands now; undefined during an outage. */
  private ready (): CommandClient | undefined {
    const cmd = this.cmd
    return cmd !== undefined && cmd.status === 'ready' && !this.abandoned && !this.closing ? cmd : undefined
  }

  private async history (room: string, since: number): Promise<History> {
    const cmd = this.ready()
    if (cmd === undefined) throw new Error('Redis is unreachable')
    const reply = await cmd.wsRecover(this.keys.seq(room), this.keys.log(room), since, this.options.historyTtlMs, this.options.historySize)
    const last = Number(reply[1])
    if (reply[0] !== 1) return { recovered: false, last, frames: [] }
    const frames: Array<History['frames'][number]> = []
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const except = String(reply[i + 1])
      frames.push({ seq: since + frames.length + 1, data: String(reply[i]), except: except === '' ? undefined : JSON.parse(except) as Exclusions })
    }
    return { recovered: true, last, frames }
  }

  private onMessage (channel: Buffer, message: Buffer): void {
    const subscription = this.subscriptions.get(channel.toString())
    if (subscription === undefined || this.host === undefined) return
    if (subscription.kind === 'user') {
      this.host.deliverToUser(subscription.name, Buffer.from(message))
      return
    }
    const envelope = parseRoomEnvelope(message)
    if (envelope === undefined) {
      this.host.log.warn({ room: subscription.name }, 'ignored a malformed frame from Redis pub/sub')
      return
    }
    this.feeds.receive(subscription.name, envelope)
  }

  /** Queue a room frame for the end of this tick (same macrotask: no added wait). */
  private deliver (frame: RoomDelivery): void {
    if (this.inbox.push(frame) === 1) process.nextTick(() => this.flush())
  }

  /**
   * The messages ioredis parsed from one read of the subscriber socket arrive within one tick:
   * handed over together, the hub writes each socket's frames of that burst in one syscall.
   * Order is unchanged (FIFO, and a nextTick runs before the promise callbacks of the same tick).
   */
  private flush (): void {
    const frames = this.inbox
    this.inbox = []
    const host = this.host
    if (host === undefined) return
    if (host.deliverBurst !== undefined) host.deliverBurst(frames)
    else for (const f of frames) host.deliverToRoom(f.room, f.data, f.seq, f.except)
  }

  private subscribe (channel: string, kind: Subscription['kind'], name: string): Promise<void> {
    let subscription = this.subscriptions.get(channel)
    if (subscription === undefined) {
      const sub = this.sub
      // Sent now when connected; otherwise `resubscribe` sends it once the subscriber is ready.
      const ready = sub !== undefined && sub.status === 'ready'
        ? sub.subscribe(channel).then(() => undefined, (err: unknown) => this.noteError(err))
        : Promise.resolve()
      subscription = { kind, name, ready }
      this.subscriptions.set(channel, subscription)
    }
    return subscription.ready
  }

  private unsubscribe (channel: string): void {
    if (!this.subscriptions.delete(channel)) return
    const sub = this.sub
    if (sub !== undefined && sub.status === 'ready') sub.unsubscribe(channel).catch((err: unknown) => this.noteError(err))
  }

  /** On every subscriber (re)connection: subscribe to every wanted channel, then fetch what pub/sub missed. */
  private resubscribe (): void {
    const sub = this.sub!
    const channels = [...this.subscriptions.keys()]
    const batches: Array<Promise<unknown>> = []
    for (let i = 0; i < channels.length; i += 1000) batches.push(sub.subscribe(...channels.slice(i, i + 1000)))
    Promise.all(batches).then(() => this.feeds.catchUp(), (err: unknown) => this.noteError(err))
  }

  private onDown (): void {
    if (this.closing || this.abandoned || this.outageSince !== undefined) return
    this.outageSince = Date.now()
    this.outages++
    this.host?.log.warn({ url: redactUrl(this.options.url) }, 'Redis connection lost: serving local clients only; durable messages are refused until it returns')
  }

  private onUp (): void {
    if (this.outageSince === undefined || this.cmd?.status !== 'ready' || this.sub?.status !== 'ready') return
    this.host?.log.info({ outageMs: Date.now() - this.outageSince }, 'Redis connection restored: resynchronising presence')
    this.outageSince = undefined
    this.errorLoggedAt = 0
    // Everyone's heartbeat stalled during the outage: give instances time to beat before reaping.
    this.reapNotBefore = Date.now() + this.options.instanceTimeoutMs
    void this.resync().then(() => this.tick())
  }

  private noteError (err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err)
    // ioredis reports every failed reconnect attempt: log the first, then at most every 10 s.
    const now = Date.now()
    if (now - this.errorLoggedAt < 10_000 || this.closing || this.abandoned) return
    this.errorLoggedAt = now
    this.host?.log.warn({ err }, 'Redis error')
  }

  /** Heartbeat, then reap dead instances. Never overlaps itself; never throws. */
  private async tick (): Promise<void> {
    const cmd = this.ready()
    if (cmd === undefined || this.ticking) return
    this.ticking = true
    try {
      const added = await cmd.wsHeartbeat(this.keys.instances, this.host!.instanceId)
      if (added === 1 && this.registered) {
        this.host!.log.warn({ instanceId: this.host!.instanceId }, 'other instances presumed this one dead (late heartbeat): re-registering its presence')
        await this.resync()
      }
      this.registered = true
      if (Date.now() >= this.reapNotBefore) await this.reap(cmd)
    } catch (err) {
      this.noteError(err)
    } finally {
      this.ticking = false
    }
  }

  private async reap (cmd: CommandClient): Promise<void> {
    const dead = await cmd.wsClaimDead(this.keys.instances, this.options.instanceTimeoutMs, REAP_BATCH, this.host!.instanceId)
    for (const instanceId of dead) {
      const records = await cmd.wsTakeSet(this.keys.instance(instanceId))
      for (const record of records) {
        const member = parseMemberRecord(record)
        if (member === undefined) continue
        const [room, userId, connectionId] = member
        if (await cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), connectionId, userId) === 1) {
          this.host!.userLeft(room, userId)
        }
      }
      this.reapedInstances++
      this.host!.log.warn({ instanceId, memberships: records.length }, 'removed the presence of a dead instance')
    }
  }

  /**
   * Make Redis hold exactly this instance's local memberships: remove records it no longer has
   * (announcing `user_left`), add the ones it lacks (announcing `user_joined`).
   */
  private resync (): Promise<void> {
    if (this.resyncing !== undefined) {
      this.resyncAgain = true
      return this.resyncing
    }
    const run = async (): Promise<void> => {
      do {
        this.resyncAgain = false
        const cmd = this.ready()
        if (cmd === undefined) return
        try {
          await this.resyncOnce(cmd)
        } catch (err) {
          this.noteError(err)
          return
        }
      } while (this.resyncAgain)
    }
    this.resyncing = run().finally(() => { this.resyncing = undefined })
    return this.resyncing
  }

  private async resyncOnce (cmd: CommandClient): Promise<void> {
    const instanceKey = this.keys.instance(this.host!.instanceId)
    const remote = new Set(await cmd.smembers(instanceKey))
    for (const record of remote) {
      const member = parseMemberRecord(record)
      if (member === undefined || this.local.has(...member)) continue
      const [room, userId, connectionId] = member
      const [last] = await Promise.all([
        cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), connectionId, userId),
        cmd.srem(instanceKey, record),
      ])
      if (last === 1) this.host!.userLeft(room, userId)
    }
    for (const [room, userId, connectionId] of [...this.local.entries()]) {
      const record = memberRecord(room, userId, connectionId)
      if (remote.has(record)) continue
      const [, first] = await Promise.all([
        cmd.sadd(instanceKey, record),
        cmd.wsAddMember(this.keys.conns(room), this.keys.users(room), connectionId, userId),
      ])
      if (first === 1) {
        this.publishToRoom({ room, frame: roomFrameParts('user_joined', room, { userId }), durable: false, except: { users: [userId] } })
          .catch((err: unknown) => this.noteError(err))
      }
    }
  }

  /** On close: whatever the hub did not remove (bounded shutdown) leaves now, with `user_left`. */
  private async removeOwnPresence (cmd: CommandClient): Promise<void> {
    const instanceId = this.host!.instanceId
    try {
      await cmd.zrem(this.keys.instances, instanceId)
      for (const record of await cmd.wsTakeSet(this.keys.instance(instanceId))) {
        const member = parseMemberRecord(record)
        if (member === undefined) continue
        const [room, userId, connectionId] = member
        if (await cmd.wsRemoveMember(this.keys.conns(room), this.keys.users(room), connectionId, userId) === 1) {
          const frame = roomFrameParts('user_left', room, { userId })
          await cmd.publish(this.keys.roomChannel(room), encodeRoomEnvelope(undefined, frame.head + frame.tail))
        }
      }
    } catch (err) {
      this.host!.log.warn({ err }, 'could not remove this instance\'s presence from Redis on close')
    }
  }
}

function unavailable (): WsError {
  return new WsError('unavailable', 'Redis is unreachable: durable messages cannot be sent right now; retry later')
}



/** The URL without its password, for logs. */
function redactUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis://…'
  }
}
