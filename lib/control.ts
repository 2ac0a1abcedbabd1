/**
 * Server-side control, cluster-wide: app code (a REST handler, a hook, a job through the emitter)
 * adds a user's connections to a room, removes them from one, sets their presence state in one, or
 * disconnects them, wherever they are connected. `app.ws` publishes a control on the user's channel (`control-message.ts`); every
 * instance holding a connection of the user applies it to its local connections here.
 *
 * What the client sees: `room_added` (tracked like a joined room, re-joined after a reconnect),
 * `room_removed` with the reason (forgotten, never re-joined), or a close with 4009 `disconnected`
 * and the reason (the generated client stops: no reconnect loop).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { MaybePromise } from './adapter.js'
import type { Connection } from './connection.js'
import {
  buildControl, buildPresenceControl, closeReason, encodeUserControl, parseUserControl,
  type ControlTarget, type UserControl,
} from './control-message.js'
import type { Disconnect } from './expiry.js'
import { CloseCode } from './protocol/codes.js'

export type { ControlTarget } from './control-message.js'

/** `app.ws`'s server-side control. Each resolves once the control is sent to every instance. */
export interface WsControl {
  /**
   * Add the target's open connections to `room`, as if they had joined it (presence and
   * `user_joined` as for `join_room`; `authorizeJoin` is not asked: the server decided). Each gets
   * `room_added`. Connections already in the room get nothing.
   */
  addToRoom(target: ControlTarget, room: string): Promise<void>
  /**
   * Remove the target's connections from `room` (presence and `user_left` as for `leave_room`).
   * Each gets `room_removed` with `reason`, and no frame of the room after it.
   * @default reason 'Removed by the server'
   */
  removeFromRoom(target: ControlTarget, room: string, reason?: string): Promise<void>
  /**
   * Close the target's connections with 4009 `disconnected` and `reason` (cut to 123 bytes), on
   * every instance. The generated client does not reconnect after it.
   * @default reason 'Disconnected by the server'
   */
  disconnect(target: ControlTarget, reason?: string): Promise<void>
  /**
   * Set the presence state of the target's connections in `room` (those in it; others are left
   * alone), as if each had sent `set_presence`. Needs a declared presence state; an invalid state
   * throws a `WsError` `invalid_message` with `details`.
   */
  setPresence(target: ControlTarget, room: string, state: unknown): Promise<void>
}

/** What applying a control needs from the hub. */
export interface ControlHost {
  readonly log: FastifyBaseLogger
  /** This instance's connections of a user. */
  connectionsOf(userId: string): Iterable<Connection> | undefined
  /** Join on the server's behalf: `room_added`, no `authorizeJoin`. */
  addToRoom(connection: Connection, room: string): Promise<void>
  /** Leave, with `room_removed` first; nothing when the connection is not in the room. */
  removeFromRoom(connection: Connection, room: string, reason: string): Promise<void>
  disconnect: Disconnect
  /** Set a member connection's presence state. */
  setPresence(connection: Connection, room: string, state: unknown): Promise<void>
  /** Throws unless the protocol declares a presence state and `state` fits it. */
  checkPresence(state: unknown): void
  /** Publish on the user's channel to every instance (this one included). */
  publishToUser(userId: string, data: string): MaybePromise<void>
}

export class ServerControl implements WsControl {
  /** Room changes for connections not greeted yet, applied once they are. */
  private readonly waiting = new WeakMap<Connection, UserControl[]>()

  constructor (private readonly host: ControlHost) {}

  async addToRoom (target: ControlTarget, room: string): Promise<void> {
    await this.publish(target.userId, buildControl('join', target, room))
  }

  async removeFromRoom (target: ControlTarget, room: string, reason?: string): Promise<void> {
    await this.publish(target.userId, buildControl('remove', target, room, reason))
  }

  async disconnect (target: ControlTarget, reason?: string): Promise<void> {
    await this.publish(target.userId, buildControl('disconnect', target, undefined, reason))
  }

  async setPresence (target: ControlTarget, room: string, state: unknown): Promise<void> {
    this.host.checkPresence(state)
    await this.publish(target.userId, buildPresenceControl(target, room, state))
  }

  /** A control for `userId` reached this instance (see `Delivery.deliverToUser`): apply it to the local connections. */
  apply (userId: string, data: Buffer): void {
    const control = parseUserControl(data)
    if (control === undefined) {
      this.host.log.warn({ userId }, 'ignored a malformed control message')
      return
    }
    const connections = this.host.connectionsOf(userId)
    if (connections === undefined) return
    for (const connection of [...connections]) {
      if (control.connectionId !== undefined && connection.id !== control.connectionId) continue
      void this.applyTo(connection, control)
    }
  }

  /** Resolves once the change is made (never rejects: a failure is logged). */
  private async applyTo (connection: Connection, control: UserControl): Promise<void> {
    if (control.op === 'disconnect') {
      connection.log.info({ reason: control.reason }, 'disconnected by the server')
      this.host.disconnect(connection, CloseCode.Disconnected, closeReason(control.reason))
      return
    }
    if (connection.closed) return
    // Not greeted yet (e.g. its onConnect hook sent this): nothing may reach the client before
    // `connected`, so the change waits and applies right after the greeting (see `greeted`).
    if (!connection.greeted) {
      const waiting = this.waiting.get(connection)
      if (waiting === undefined) this.waiting.set(connection, [control])
      else waiting.push(control)
      return
    }
    if (control.op === 'presence' && !connection.rooms.has(control.room)) return
    const done = control.op === 'join'
      ? this.host.addToRoom(connection, control.room)
      : control.op === 'presence'
        ? this.host.setPresence(connection, control.room, control.state)
        : this.host.removeFromRoom(connection, control.room, control.reason)
    await done.catch((err: unknown) => connection.log.warn({ err, room: control.room, op: control.op }, 'server-side room change failed'))
  }

  /** The connection was greeted: apply the room changes that reached it before, in order. */
  greeted (connection: Connection): void {
    const waiting = this.waiting.get(connection)
    if (waiting === undefined) return
    this.waiting.delete(connection)
    // One after the other: the client sees them in the order they were sent.
    void waiting.reduce<Promise<void>>(async (previous, control) => { await previous; await this.applyTo(connection, control) }, Promise.resolve())
  }

  private async publish (userId: string, control: UserControl): Promise<void> {
    await this.host.publishToUser(userId, encodeUserControl(control))
  }
}
