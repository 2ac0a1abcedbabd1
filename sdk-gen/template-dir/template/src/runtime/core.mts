/**
 * The connection manager behind every generated client, assembled from its parts: the connection
 * machine (`connection.mts`), requests and the offline queue (`requests.mts`), rooms and recovery
 * (`rooms.mts`), heartbeat and token refresh (`heartbeat.mts`, `token-refresh.mts`). It knows the
 * built-in messages of the server (from the protocol module) and nothing of the app's: the
 * generated subclass adds one typed method per message.
 */
import { ConnectionMachine, type ConnectionHooks } from './connection.mjs'
import { Emitter } from './emitter.mjs'
import { host } from './env.mjs'
import { ClientClosedError, RealtimeError } from './errors.mjs'
import { Heartbeat } from './heartbeat.mjs'
import { MemberViews, type MembersView } from './members.mjs'
import {
  resolveSettings, type ClientEvents, type ClientOptions, type ConnectionState, type MessageHandler, type ProtocolDefaults,
  type RequestOptions, type Session, type Settings,
} from './options.mjs'
import { ClientMessage, CloseCode, parseServerFrame, ServerMessage } from './protocol/index.js'
import { Requests } from './requests.mjs'
import { Rooms } from './rooms.mjs'
import { TokenRefresh } from './token-refresh.mjs'
import { TokenSource } from './token.mjs'

export type {
  ClientEvents, ClientOptions, CloseInfo, ConnectionState, EventMeta, HeartbeatOptions, MessageHandler, PacingOptions, ProtocolDefaults,
  RequestOptions, Session, TokenProvider, TokenRefreshOptions,
} from './options.mjs'
export type { MembersView } from './members.mjs'

/** Upper bound on `fetchMembers` pages, so a misbehaving server cannot loop it forever. */
const MAX_MEMBER_PAGES = 10_000

export class ClientCore {
  private readonly events = new Emitter<ClientEvents>()
  private readonly handlers = new Map<string, Set<MessageHandler<any>>>()
  private readonly settings: Settings
  private readonly connection: ConnectionMachine
  private readonly requests: Requests
  private readonly joined: Rooms
  private readonly memberViews: MemberViews
  private readonly heartbeat: Heartbeat
  private readonly tokenRefresh: TokenRefresh

  constructor (options: ClientOptions, defaults: ProtocolDefaults) {
    this.settings = resolveSettings(options, defaults, host.WebSocket)
    const emit = this.emit.bind(this)
    const report = this.report.bind(this)
    const token = new TokenSource(this.settings.token)
    this.connection = new ConnectionMachine(this.settings, token, this.connectionHooks())
    this.requests = new Requests(this.settings, () => this.connection.socket)
    this.joined = new Rooms(this.settings, this.requests, emit)
    this.memberViews = new MemberViews((room) => this.emit('members', { room }), () => this.connection.session?.userId)
    this.heartbeat = new Heartbeat(this.settings, this.requests, this.connection)
    this.tokenRefresh = new TokenRefresh(this.settings, token, this.requests, this.connection, emit, report)
    if (!this.settings.lazy) this.connection.start()
  }

  /** The connection state; changes are announced by the `state` event. */
  get state (): ConnectionState {
    return this.connection.state
  }

  /** The current connection's identity, while open. */
  get session (): Session | undefined {
    return this.connection.session
  }

  /** Rooms joined through this client (re-joined after every reconnect). */
  get rooms (): string[] {
    return this.joined.names
  }

  /**
   * Who is in a joined room, as the server reported it (updated live; the `members` event says
   * when). In a room over the server's list limit it is partial (`complete: false`) and only the
   * count moves: `fetchMembers(room)` lists everyone. Undefined for a room not joined.
   */
  members (room: string): MembersView | undefined {
    return this.joined.names.includes(room) ? this.memberViews.view(room) : undefined
  }

  /** List every member of a joined room (`get_members`, page by page) and make the view complete. */
  async fetchMembers (room: string, options?: RequestOptions): Promise<string[]> {
    const users: string[] = []
    const presence: Record<string, unknown> = {}
    let after: string | undefined
    let count = 0
    // The pages' oldest presence version: changes after it may be missing from some page.
    let version: number | undefined
    let versioned = true
    for (let page = 0; page < MAX_MEMBER_PAGES; page++) {
      const reply = await this.request(ClientMessage.GetMembers, after === undefined ? { room } : { room, after }, ServerMessage.MembersPage, options) as
        { members: string[], memberCount: number, next?: string, presence?: Record<string, unknown>, version?: number }
      users.push(...reply.members)
      versioned &&= reply.version !== undefined
      version = Math.min(version ?? Infinity, reply.version ?? Infinity)
      Object.assign(presence, reply.presence)
      count = reply.memberCount
      after = reply.next
      if (after === undefined) break
    }
    if (this.joined.names.includes(room)) this.memberViews.replace(room, users, count, presence, versioned ? version : undefined)
    return users
  }

  /** Listen to a connection event. Returns the function that removes the listener. */
  on<K extends keyof ClientEvents> (event: K, listener: (event: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /**
   * Connect now (sends connect on their own). Resolves when the connection is open; rejects with
   * `ClientClosedError` if the client stops first. Restarts a closed client.
   */
  connect (): Promise<Session> {
    const session = this.connection.session
    if (this.connection.open && session !== undefined) return Promise.resolve(session)
    const opened = new Promise<Session>((resolve, reject) => {
      const offOpen = this.on('open', (session) => { offOpen(); offClosed(); resolve(session) })
      const offClosed = this.on('closed', () => { offOpen(); offClosed(); reject(new ClientClosedError('connect', this.state)) })
    })
    this.connection.start()
    return opened
  }

  /** Close the connection and stop: no reconnect; queued and in-flight requests reject. */
  close (code: number = CloseCode.Normal, reason = 'Client closed'): void {
    this.connection.close(code, reason)
  }

  /** Send a request and resolve with its reply's payload (`expects` is `ack` when none is declared). */
  protected request (type: string, payload: unknown, expects: string, options?: RequestOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.connection.stopped) {
        reject(new ClientClosedError(type, this.state))
        return
      }
      const request = this.requests.create(type, payload, expects, options?.timeoutMs ?? this.settings.requestTimeoutMs, resolve, reject)
      request.onReply = this.joined.sending(type, payload)
      request.waitMs = options?.queueTimeoutMs ?? this.settings.queueTimeoutMs
      if (this.connection.open) this.requests.transmit(request)
      else if (this.requests.enqueue(request, request.waitMs)) this.connection.start()
    })
  }

  /** Call `handler` for every frame of `type`. Returns the function that removes it. */
  protected subscribe (type: string, handler: MessageHandler<any>): () => void {
    let set = this.handlers.get(type)
    if (set === undefined) this.handlers.set(type, set = new Set())
    set.add(handler)
    return () => { set.delete(handler) }
  }

  /** What happens around each transition of the connection machine. */
  private connectionHooks (): ConnectionHooks {
    return {
      stateChanged: (state, previous) => this.emit('state', { state, previous }),
      connecting: (attempt) => this.emit('connecting', { attempt }),
      frame: (data) => this.handleFrame(data),
      // Re-join first: the server handles one connection's frames in order, so the queued sends
      // flushed next are processed after the joins and reach their rooms.
      opening: () => {
        this.requests.connectionOpened()
        this.joined.rejoinAll()
      },
      opened: (session) => {
        this.requests.flush()
        this.tokenRefresh.schedule(session.expiresAt)
        this.heartbeat.start()
        this.emit('open', session)
      },
      dropped: (close) => {
        this.endConnectionWork()
        this.requests.rejectInFlight(close)
        this.emit('disconnected', close)
      },
      reconnecting: (event) => this.emit('reconnecting', event),
      stopping: (state, close) => {
        this.endConnectionWork()
        this.requests.rejectInFlight(close)
        this.requests.rejectQueued(state)
      },
      stopped: (state, close) => {
        if (state === 'unauthorized') this.emit('unauthorized', close)
        this.emit('closed', close)
      },
      woke: () => this.heartbeat.beat(true),
      report: (error, context) => this.report(error, context),
    }
  }

  private endConnectionWork (): void {
    this.heartbeat.stop()
    this.tokenRefresh.stop()
  }

  private handleFrame (data: unknown): void {
    this.heartbeat.noteFrame()
    const parsed = parseServerFrame(typeof data === 'string' ? data : String(data))
    if (!parsed.ok) {
      this.report(parsed.cause ?? new RealtimeError(parsed.message), 'frame')
      return
    }
    const frame = parsed.frame
    if (frame.type === ServerMessage.Connected) this.connection.established(frame.payload as Session)
    this.joined.observe(frame)
    this.memberViews.observe(frame)
    if (frame.id !== undefined) this.requests.settle(frame.id, frame.type, frame.payload)
    const handlers = this.handlers.get(frame.type)
    if (handlers === undefined || handlers.size === 0) return
    const meta: { type: string, room?: string, seq?: number, id?: string } = { type: frame.type }
    if (frame.room !== undefined) meta.room = frame.room
    if (frame.seq !== undefined) meta.seq = frame.seq
    if (frame.id !== undefined) meta.id = frame.id
    for (const handler of [...handlers]) {
      try {
        handler(frame.payload, meta)
      } catch (error) {
        this.report(error, `on ${frame.type} handler`)
      }
    }
  }

  private emit<K extends keyof ClientEvents> (event: K, value: ClientEvents[K]): void {
    this.events.emit(event, value, (error) => {
      if (event !== 'error') this.report(error, `${String(event)} listener`)
      else host.console?.error(error)
    })
  }

  private report (error: unknown, context: string): void {
    if (!this.events.emit('error', { error, context }, (listenerError) => host.console?.error(listenerError))) {
      host.console?.error(`[realtime-client] ${context}:`, error)
    }
  }
}
