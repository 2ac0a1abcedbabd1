/**
 * The local index: this instance's connections by id, by user and by room, and the caps that
 * refuse a new one. Only membership.ts changes the room index; everyone else reads it.
 */
import type { WebSocket } from 'ws'
import type { FastifyBaseLogger } from 'fastify'
import { CloseCode } from './protocol/codes.js'
import { Connection } from './connection.js'
import type { ResolvedOptions } from './options.js'
import { TokenBucket } from './rate-limit.js'
import type { WsUser } from './types.js'

type RegistryOptions = Pick<ResolvedOptions, 'maxRoomsPerConnection' | 'maxConnections' | 'maxConnectionsPerUser' | 'rateLimit' | 'generateConnectionId'>

export class Registry {
  readonly connections = new Map<string, Connection>()
  /** userId → that user's local connections */
  readonly users = new Map<string, Set<Connection>>()
  /** room → local member connections */
  readonly rooms = new Map<string, Set<Connection>>()
  /** Shutting down: no connection is admitted any more. */
  closing = false

  constructor (private readonly options: RegistryOptions) {}

  /** Index an authenticated socket. Returns undefined when a cap refused it (socket closed). */
  admit (socket: WebSocket, user: WsUser, log: FastifyBaseLogger): Connection | undefined {
    const { maxConnections, maxConnectionsPerUser, rateLimit } = this.options
    if (this.closing) {
      socket.close(CloseCode.GoingAway, 'Server shutting down')
      return undefined
    }
    if (this.connections.size >= maxConnections) {
      socket.close(CloseCode.TryAgainLater, 'Server connection limit reached')
      return undefined
    }
    const userConnections = this.users.get(user.id)
    if (maxConnectionsPerUser !== undefined && (userConnections?.size ?? 0) >= maxConnectionsPerUser) {
      socket.close(CloseCode.TooManyUserConnections, 'Too many connections for this user')
      return undefined
    }
    const id = this.options.generateConnectionId()
    const bucket = rateLimit === false ? undefined : new TokenBucket(rateLimit.perSecond, rateLimit.burst, Date.now(), this.options.maxRoomsPerConnection)
    const connection = new Connection(id, user.id, user.claims, socket, log, bucket)
    this.connections.set(id, connection)
    if (userConnections === undefined) this.users.set(user.id, new Set([connection]))
    else userConnections.add(connection)
    return connection
  }

  /**
   * Drop a connection from the index by id and user (its rooms are left by the caller) and stop
   * its writes and queued frames. False when it was already forgotten.
   */
  forget (connection: Connection): boolean {
    if (!this.connections.delete(connection.id)) return false
    connection.closed = true
    connection.backlog = undefined
    const userConnections = this.users.get(connection.userId)
    userConnections?.delete(connection)
    if (userConnections?.size === 0) this.users.delete(connection.userId)
    return true
  }
}
