/**
 * The connection manager: composes the jobs below and owns a connection's life from admission to
 * cleanup. Each job has its own module:
 *   registry.ts   the local index (connections, users, rooms) and the caps
 *   greeting.ts   the `connected` frame          expiry.ts     token expiry timers
 *   membership.ts join/leave, presence, recovery delivery.ts    every delivery, flow control
 *   heartbeat.ts  liveness sweep                  shutdown.ts   graceful shutdown
 *   control.ts    server-side control (add to / remove from a room, disconnect), cluster-wide
 * The app's hooks (hooks.ts) run through `runHook`: onConnect in connection-lifecycle.ts, onDisconnect in removeConnection, onJoin/onLeave in
 * membership.ts, preHandler in dispatch.ts, onPublish in builtin-handlers.ts.
 */
import { randomUUID } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Adapter, AdapterHost, Exclusions, MaybePromise } from './adapter.js'
import type { Catalog } from './catalog.js'
import { WsError, WsRegistrationError, type WsErrorCode } from './errors.js'
import type { Connection } from './connection.js'
import { createHandlerContext } from './context.js'
import { ServerControl } from './control.js'
import type { BroadcastOptions, HandlerContext, ServerMessageDef } from './define.js'
import { Delivery } from './delivery.js'
import { setExpiry, stopExpiry, type Disconnect } from './expiry.js'
import { greet, register } from './greeting.js'
import { expiryHorizonMs, sweep } from './heartbeat.js'
import type { HookName, Hooks } from './hooks.js'
import { Membership } from './membership.js'
import { encodeState, Presence, type MembersPage } from './presence.js'
import type { ResolvedOptions } from './options.js'
import { Registry } from './registry.js'
import { RunningHandlers, shutdown } from './shutdown.js'
import { withTimeout } from './timeout.js'
import type { WsStats, WsUser } from './types.js'

export class Hub {
  readonly instanceId = randomUUID()
  private readonly registry: Registry
  private readonly delivery: Delivery
  private readonly membership: Membership
  private readonly presence: Presence
  private readonly handlers = new RunningHandlers()
  /** `app.ws.addToRoom` / `removeFromRoom` / `disconnect`. */
  readonly control: ServerControl
  /** Publishes take effect in call order even when they overlap (see `Adapter.ordersPublishes`). */
  readonly publishesInOrder: boolean
  /** `disconnect` for the jobs that close connections; made once, not per connection (expiry timers hold it). */
  private readonly disconnectConnection: Disconnect = (connection, code, reason) => this.disconnect(connection, code, reason)

  constructor (
    readonly app: FastifyInstance,
    private readonly catalog: Catalog,
    private readonly adapter: Adapter,
    private readonly options: ResolvedOptions,
    private readonly hooks: Hooks,
  ) {
    this.registry = new Registry(options)
    this.delivery = new Delivery(this.instanceId, app.log, this.registry, adapter, catalog, options, this.disconnectConnection,
      {
        joined: async (room, userId, version) => this.presence.joined(room, userId, version),
        left: async (room, userId, version) => this.presence.left(room, userId, version),
        leftMany: async (departures) => this.presence.leftMany(departures),
      })
    if (catalog.presence !== undefined && adapter.presenceState === undefined) {
      throw new WsRegistrationError('WS_ERR_INVALID_OPTION', 'The protocol declares a presence state, but the adapter keeps none (adapter.presenceState): use an adapter that has it')
    }
    this.presence = new Presence(adapter, options.presenceListLimit,
      (room, type, payload, exceptUser) => this.delivery.publish(room, type, payload, false, exceptUser === undefined ? undefined : { users: [exceptUser] }),
      catalog.presence !== undefined, options.presenceMaxStateBytes)
    this.membership = new Membership(this.registry, adapter, this.delivery, this.presence, options, this)
    this.control = new ServerControl({
      log: app.log,
      connectionsOf: (userId) => this.registry.users.get(userId),
      addToRoom: (connection, room) => this.membership.join(connection, room, undefined, undefined, 'server'),
      removeFromRoom: (connection, room, reason) => this.membership.remove(connection, room, reason),
      setPresence: async (connection, room, state) => this.presence.setState(connection, room, state),
      checkPresence: (state) => this.checkPresence(state),
      disconnect: this.disconnectConnection,
      publishToUser: (userId, data) => adapter.publishToUser(userId, data),
    })
    this.delivery.control = (userId, data) => this.control.apply(userId, data)
    this.delivery.reset = (room, position) => this.membership.announceReset(room, position)
    this.publishesInOrder = adapter.ordersPublishes === true
  }

  /** What the adapter delivers to (local rooms and users); pass it to `adapter.init`. */
  get adapterHost (): AdapterHost {
    return this.delivery
  }

  get closing (): boolean {
    return this.registry.closing
  }

  /** room → local member connections (read only: membership.ts changes it). */
  get rooms (): ReadonlyMap<string, ReadonlySet<Connection>> {
    return this.registry.rooms
  }

  // ── a connection's life ─────────────────────────────────────────────────

  /** Register an authenticated socket. Returns undefined when a cap refused it (socket closed). */
  addConnection (socket: WebSocket, user: WsUser, expiresAt: number | undefined, log: FastifyBaseLogger): Connection | undefined {
    const connection = this.registry.admit(socket, user, log)
    if (connection !== undefined) this.setExpiry(connection, expiresAt)
    return connection
  }

  /** Send `connected`; a promise when it had to wait for the adapter (frames wait meanwhile). */
  greet (connection: Connection): Promise<void> | undefined {
    const greeted = greet(connection, this.adapter, this.delivery)
    if (greeted === undefined) return void this.control.greeted(connection)
    return greeted.then(() => this.control.greeted(connection))
  }

  /** Route the user's messages to this connection before it is greeted (see greeting.ts). */
  register (connection: Connection): Promise<void> | undefined {
    return register(connection, this.adapter)
  }

  /** Close the connection at the token's expiry unless a refresh moves it. */
  setExpiry (connection: Connection, expiresAt: number | undefined): void {
    setExpiry(connection, expiresAt, this.disconnectConnection, expiryHorizonMs(this.options.heartbeatIntervalMs))
  }

  /** Forget a connection: it leaves every room (presence rules apply) and its timers stop. */
  async removeConnection (connection: Connection): Promise<void> {
    if (!this.registry.forget(connection)) return
    stopExpiry(connection)
    await this.membership.leaveAll(connection)
    try {
      if (connection.registered) await this.adapter.removeConnection?.(connection.userId, connection.id)
    } catch (err) {
      connection.log.error({ err }, 'adapter connection cleanup failed')
    }
    if (connection.accepted && this.hooks.has('onDisconnect')) {
      try {
        await this.runHook('onDisconnect', connection)
      } catch (err) {
        connection.log.error({ err, hook: 'onDisconnect' }, 'onDisconnect hook failed')
      }
    }
  }

  // ── app hooks (hooks.ts) ────────────────────────────────────────────────

  hasHook (name: HookName): boolean {
    return this.hooks.has(name)
  }

  /** Run the app's hooks of `name` for a connection; undefined when they all ran synchronously. */
  runHook (name: HookName, connection: Connection, event?: unknown): MaybePromise<void> {
    return this.hooks.run(name, this.contextFor(connection), event)
  }

  /**
   * Close with `code` and forget the connection at once (rooms, presence, `user_left`). A client
   * that stopped reading may never finish the closing handshake (ws destroys the socket after
   * 30 s); it must not linger in rooms meanwhile. Its buffer no longer grows: `closed` stops writes.
   */
  disconnect (connection: Connection, code: number, reason: string): void {
    if (connection.closed) return
    connection.close(code, reason)
    this.removeConnection(connection).catch((err: unknown) => connection.log.error({ err }, 'connection cleanup failed'))
  }

  // ── rooms (membership.ts) ───────────────────────────────────────────────

  join (connection: Connection, room: string, since: number | undefined, id: string | undefined, epoch?: string): Promise<void> {
    return this.membership.join(connection, room, since, id, 'client', epoch)
  }

  leave (connection: Connection, room: string): Promise<void> {
    return this.membership.leave(connection, room)
  }

  members (room: string): MaybePromise<string[]> {
    return this.adapter.members(room)
  }

  /** Set a connection's presence state in a room it joined (`set_presence`: already validated). */
  setPresence (connection: Connection, room: string, state: unknown): Promise<void> {
    return this.presence.setState(connection, room, state)
  }

  /** The same from app code (`ctx.setPresence`): checked against the protocol's presence schema first. */
  async setPresenceChecked (connection: Connection, room: string, state: unknown): Promise<void> {
    this.checkPresence(state)
    await this.presence.setState(connection, room, state)
  }

  /** Throws unless the protocol declares a presence state and `state` fits its schema (a bug in app code). */
  checkPresence (state: unknown): void {
    const check = this.catalog.presence
    if (check === undefined) throw new WsRegistrationError('WS_ERR_NO_PRESENCE_STATE', 'setPresence() needs a presence state declared in the protocol: defineProtocol().presence(schema)')
    const issues = check.validate(state)
    if (issues !== undefined) throw new WsError('invalid_message', 'The presence state breaks the protocol\'s presence schema', issues)
    encodeState(state, this.options.presenceMaxStateBytes)
  }

  /** One page of a room's members (`get_members`). */
  membersPage (room: string, after: string | undefined, limit: number | undefined): Promise<MembersPage> {
    return this.presence.page(room, after, limit)
  }

  // ── deliveries (delivery.ts) ────────────────────────────────────────────

  publish (room: string, type: string, payload: unknown, durable: boolean, except: Exclusions | undefined, idempotencyKey?: string): MaybePromise<number | undefined> {
    return this.delivery.publish(room, type, payload, durable, except, idempotencyKey)
  }

  broadcast (room: string, type: string, payload: unknown, options?: BroadcastOptions): MaybePromise<number | undefined> {
    return this.delivery.broadcast(room, type, payload, options)
  }

  sendToUser (userId: string, type: string, payload: unknown): MaybePromise<void> {
    return this.delivery.sendToUser(userId, type, payload)
  }

  send (connection: Connection, type: string, payload: unknown, id?: string): void {
    this.delivery.send(connection, type, payload, id)
  }

  sendError (connection: Connection, code: WsErrorCode, message: string, id: string | undefined, details?: ReadonlyArray<{ path: string, message: string }>): void {
    this.delivery.sendError(connection, code, message, id, details)
  }

  declared (type: string): ServerMessageDef {
    return this.delivery.declared(type)
  }

  // ── handlers (dispatch.ts) ──────────────────────────────────────────────

  /** The per-connection context app handlers receive (made once per connection). */
  contextFor (connection: Connection): HandlerContext<any> {
    connection.context ??= createHandlerContext(this, connection)
    return connection.context
  }

  countIn (): void {
    this.delivery.messagesIn++
  }

  countType (type: string): void {
    const { inByType } = this.delivery
    inByType[type] = (inByType[type] ?? 0) + 1
  }

  handlerStarted (): void {
    this.handlers.started()
  }

  handlerDone (): void {
    this.handlers.done()
  }

  // ── introspection, liveness, shutdown ───────────────────────────────────

  stats (): WsStats {
    const { delivery, registry } = this
    return {
      connections: registry.connections.size,
      users: registry.users.size,
      rooms: registry.rooms.size,
      messagesIn: delivery.messagesIn,
      messagesOut: delivery.messagesOut,
      framesDropped: delivery.framesDropped,
      slowConsumerCloses: delivery.slowConsumerCloses,
      errors: { ...delivery.errorCounts },
      messagesInByType: { ...delivery.inByType },
      messagesOutByType: { ...delivery.outByType },
      recoveries: { ...delivery.recoveries },
      adapter: this.adapter.stats?.(),
    }
  }

  /** Terminate connections that missed the previous ping; close stuck slow readers. */
  sweep (now: number): void {
    sweep(this.registry, this.options, this.disconnectConnection, now)
  }

  /**
   * See shutdown.ts. Everyone leaves at once: the departures are announced together at the end,
   * one batch per room under the presence rules (a big room hears one `member_count`), and
   * published before the adapter closes.
   */
  async shutdown (): Promise<void> {
    this.presence.collectDepartures()
    try {
      await shutdown(this.registry, this.handlers, (connection) => this.removeConnection(connection), this.options.shutdownTimeoutMs)
    } finally {
      await withTimeout(this.presence.announceCollected(), this.options.shutdownTimeoutMs)
    }
  }
}
