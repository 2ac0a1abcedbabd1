/**
 * Joining and leaving rooms: the local room index, presence through the adapter (announced by
 * presence.ts on a user's first connection in a room and after the last), and recovery of missed
 * messages. While a join is in progress the room's live frames are held for the joiner, so it
 * sees its reply first and every message once, in `seq` order. What a join makes the server hold
 * counts against `highWaterMark`: a replay is written as the socket drains (never past the mark;
 * a reader that does not drain within `slowConsumerGraceMs` is closed as a slow consumer), held
 * frames beyond the mark are dropped like any live delivery (a gap), and a connection already in
 * the room is replayed only what flow control dropped there.
 */
import type { Adapter, MaybePromise, StreamPosition } from './adapter.js'
import type { Connection } from './connection.js'
import { isExcluded, type Delivery } from './delivery.js'
import { WsError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { asLeave, type MemberList, type Presence } from './presence.js'
import type { Registry } from './registry.js'
import { assertRoomName } from './room-name.js'
import { ServerMessage } from './protocol/names.js'

export interface RoomJoinedPayload {
  room: string
  members: string[]
  memberCount: number
  presence?: Record<string, unknown>
  /** The room's presence version of this list (see `PresenceLeave.version`). */
  version?: number
  seq: number
  epoch?: string
  recovered?: boolean
}

/** Who asked for a join: the client (`join_room`, `room_joined`) or the server (`app.ws.addToRoom`, `room_added`). */
export type JoinedBy = 'client' | 'server'

type MembershipOptions = Pick<ResolvedOptions, 'authorizeJoin' | 'maxRoomsPerConnection'>

/** The app's `onJoin`/`onLeave` hooks (hooks.ts); the hub runs them with the connection's context. */
export interface MembershipHooks {
  hasHook(name: 'onJoin' | 'onLeave'): boolean
  runHook(name: 'onJoin' | 'onLeave', connection: Connection, event: unknown): MaybePromise<void>
}

export class Membership {
  constructor (
    private readonly registry: Registry,
    private readonly adapter: Adapter,
    private readonly delivery: Delivery,
    private readonly presence: Presence,
    private readonly options: MembershipOptions,
    private readonly hooks: MembershipHooks,
  ) {}

  /**
   * Join `room`. Sends `room_joined` (with `id` when given), then any recovered messages, then the
   * live ones that arrived meanwhile (held until then), so the client sees the reply first and
   * every message in `seq` order.
   */
  async join (connection: Connection, room: string, since: number | undefined, id: string | undefined, by: JoinedBy = 'client', epoch?: string): Promise<void> {
    assertRoomName(room)
    // The server adding a member changes nothing when it is one already.
    if (by === 'server' && connection.rooms.has(room)) return
    hold(connection, room)
    let recoveredUpTo = 0
    let hadGap = false
    // Already a member: everything since its join reached it, unless flow control dropped some.
    const alreadyMember = connection.rooms.has(room)
    const replay = since !== undefined && (!alreadyMember || connection.gaps?.has(room) === true)
    try {
      if (!alreadyMember) {
        this.checkRoomLimit(connection)
        const authorize = by === 'client' ? this.options.authorizeJoin : undefined
        if (authorize !== undefined && !(await authorize({ id: connection.userId, claims: connection.claims }, room))) {
          throw new WsError('forbidden', `Not allowed to join room "${room}"`)
        }
        if (connection.closed) return
        if (!connection.rooms.has(room)) {
          this.checkRoomLimit(connection) // again: other joins may have completed while authorizing
          connection.rooms.add(room)
          let members = this.registry.rooms.get(room)
          if (members === undefined) this.registry.rooms.set(room, members = new Set())
          members.add(connection)
          const presence = await this.adapter.addMember(room, connection.userId, connection.id)
          if (connection.closed) return
          // Removed meanwhile (app.ws.removeFromRoom): its leave already announced and ran onLeave;
          // announcing the arrival or running onJoin now would reverse that order.
          if (connection.rooms.has(room)) {
            if (presence.firstForUser) await this.presence.joined(room, connection.userId, presence.version)
            if (this.hooks.hasHook('onJoin')) await this.joinedHook(connection, room, presence.firstForUser)
          }
          if (connection.closed) return
        }
      }
      // This replay covers every gap so far; a frame dropped from now on (held during this join,
      // newer than the history read) is a new gap that must outlive the recovery.
      if (replay) hadGap = connection.gaps?.delete(room) === true
      const [list, position, recovery] = await Promise.all([
        this.presence.list(room),
        positionOf(this.adapter, room),
        replay ? this.adapter.recover(room, since, epoch) : undefined,
      ])
      if (connection.closed) return
      // Removed by the server meanwhile (`room_removed` is out): no reply may say it is a member.
      if (!connection.rooms.has(room)) {
        if (by === 'server') return
        throw new WsError('forbidden', `Removed from room "${room}" while joining it`)
      }
      const frames = recovery?.recovered === true ? recovery.frames.filter((frame) => frame.except === undefined || !isExcluded(connection, frame.except)) : []
      if (recovery?.recovered === true) hadGap = false
      recoveredUpTo = frames.length === 0 ? 0 : frames[frames.length - 1]!.seq
      const reply = joinedPayload(room, list, Math.max(position.seq, recoveredUpTo), position.epoch)
      if (since !== undefined) reply.recovered = this.delivery.countRecovery(recovery === undefined || recovery.recovered)
      this.delivery.send(connection, by === 'client' ? ServerMessage.RoomJoined : ServerMessage.RoomAdded, reply, id)
      // Recovered frames are part of the answer: never dropped, written only while under the mark.
      for (const frame of frames) {
        const writable = this.delivery.roomToWrite(connection)
        if (writable !== true && !(writable !== false && await writable)) return
        // Removed or left while the replay waited for the socket to drain: nothing of the room follows.
        if (!connection.rooms.has(room)) return
        this.delivery.writeStored(connection, Buffer.from(frame.data))
      }
    } finally {
      // Not recovered (or failed): the gaps it was to fill are still there.
      if (hadGap && connection.rooms.has(room)) (connection.gaps ??= new Set()).add(room)
      // A member keeps what arrived meanwhile (minus what recovery sent); a refused joiner gets nothing.
      this.release(connection, room, connection.rooms.has(room) ? recoveredUpTo : Infinity)
      if (recoveredUpTo > 0 && connection.rooms.has(room)) (connection.replayedUpTo ??= new Map()).set(room, recoveredUpTo)
    }
  }

  /**
   * The adapter could not keep the room's stream continuous here (see `AdapterHost.roomReset`):
   * each local member gets a fresh `room_joined` without `id`, `recovered: false`, at `position`,
   * and the room's frames that arrive meanwhile wait for it. A member whose join is in progress is
   * answered by that join.
   */
  announceReset (room: string, position: StreamPosition): void {
    const members = [...this.registry.rooms.get(room) ?? []].filter((connection) => connection.holding?.has(room) !== true)
    if (members.length === 0) return
    for (const connection of members) {
      hold(connection, room)
      // Nothing of the old numbering can be replayed or skipped any more.
      connection.gaps?.delete(room)
      connection.replayedUpTo?.delete(room)
    }
    const local = (): MemberList => {
      const users = [...new Set(members.map((connection) => connection.userId))]
      return { members: users, memberCount: users.length }
    }
    // The store may be unreachable right now: then the members this instance knows of.
    void this.presence.list(room).catch(local).then((list) => {
      // The store may have lost them (the reason for many a reset): a complete list names every local member.
      const missing = list.members.length < list.memberCount ? [] : local().members.filter((userId) => !list.members.includes(userId))
      // The store's version orders its list against later announcements; a list this instance
      // completed itself has none (the client then applies what follows as it comes).
      const told: MemberList = missing.length === 0
        ? list
        : { members: [...list.members, ...missing], memberCount: list.memberCount + missing.length, presence: list.presence }
      for (const connection of members) {
        if (connection.closed || !connection.rooms.has(room)) continue
        const reply = joinedPayload(room, told, position.seq, position.epoch)
        reply.recovered = this.delivery.countRecovery(false)
        this.delivery.send(connection, ServerMessage.RoomJoined, reply)
      }
      for (const connection of members) this.release(connection, room, position.seq)
    })
  }

  /** A throw of an `onJoin` hook undoes the join (presence too, without `onLeave`) and answers the request. */
  private async joinedHook (connection: Connection, room: string, firstForUser: boolean): Promise<void> {
    try {
      await this.hooks.runHook('onJoin', connection, { room, firstForUser })
    } catch (err) {
      await this.leave(connection, room, false, false)
      throw err
    }
  }

  async leave (connection: Connection, room: string, disconnecting = false, runHooks = true): Promise<void> {
    if (!connection.rooms.delete(room)) return
    const held = connection.holding?.get(room)
    if (held !== undefined) {
      for (const frame of held) connection.heldBytes -= frame.data.length
      connection.holding!.delete(room)
    }
    connection.gaps?.delete(room)
    connection.replayedUpTo?.delete(room)
    const members = this.registry.rooms.get(room)
    if (members !== undefined) {
      members.delete(connection)
      if (members.size === 0) this.registry.rooms.delete(room)
    }
    // Its presence state first: the user's state falls back to their next most recent (announced if they stay).
    const change = connection.stated?.has(room) === true ? await this.presence.clearState(connection, room) : undefined
    const { lastForUser, version } = asLeave(await this.adapter.removeMember(room, connection.userId, connection.id))
    if (lastForUser) await this.presence.left(room, connection.userId, version)
    else if (change?.changed === true) await this.presence.updated(room, connection.userId, change.state)
    if (runHooks && this.hooks.hasHook('onLeave')) await this.hooks.runHook('onLeave', connection, { room, lastForUser, disconnecting })
  }

  /** The server removes the connection from `room`: `room_removed` is its last frame of the room. */
  async remove (connection: Connection, room: string, reason: string): Promise<void> {
    if (!connection.rooms.has(room)) return
    // leave() drops the room from the local index before its first await: nothing of the room follows.
    const leaving = this.leave(connection, room)
    this.delivery.send(connection, ServerMessage.RoomRemoved, { room, reason })
    await leaving
  }

  /** Leave every room of a connection that is going away; one failure does not stop the others. */
  async leaveAll (connection: Connection): Promise<void> {
    const leaving = [...connection.rooms]
    await Promise.all(leaving.map(async (room) => {
      try {
        await this.leave(connection, room, true)
      } catch (err) {
        connection.log.error({ err, room }, 'leaving room on disconnect failed')
      }
    }))
  }

  private checkRoomLimit (connection: Connection): void {
    if (connection.rooms.size >= this.options.maxRoomsPerConnection) {
      throw new WsError('room_limit', `A connection can be in at most ${this.options.maxRoomsPerConnection} rooms`)
    }
  }

  /** Deliver held frames newer than `after` (recovered ones are already out); `Infinity`: discard. */
  private release (connection: Connection, room: string, after: number): void {
    const held = connection.holding?.get(room)
    if (held === undefined) return
    connection.holding!.delete(room)
    if (connection.holding!.size === 0) connection.holding = undefined
    for (const frame of held) connection.heldBytes -= frame.data.length
    if (after === Infinity || connection.closed) return
    for (const frame of held) {
      if (frame.seq !== undefined && frame.seq <= after) continue
      // Live frames, under flow control like any other delivery (a drop is a gap to recover).
      this.delivery.releaseHeld(connection, room, frame.data)
    }
  }
}

/** From now until `release`, the room's live frames for this connection wait (see Delivery.deliverToRoom). */
function hold (connection: Connection, room: string): void {
  if (connection.holding === undefined) connection.holding = new Map()
  if (!connection.holding.has(room)) connection.holding.set(room, [])
}
/** The room's position; `epoch` only from adapters that name their numbering. */
async function positionOf (adapter: Adapter, room: string): Promise<{ seq: number, epoch?: string | undefined }> {
  return adapter.position !== undefined ? await adapter.position(room) : { seq: await adapter.lastSeq(room) }
}

/** A `room_joined`/`room_added` payload from a members list and the room's position (`epoch` '' or absent: unknown). */
function joinedPayload (room: string, list: MemberList, seq: number, epoch: string | undefined): RoomJoinedPayload {
  const reply: RoomJoinedPayload = { room, members: list.members, memberCount: list.memberCount, seq }
  if (list.presence !== undefined) reply.presence = list.presence
  if (list.version !== undefined) reply.version = list.version
  // The client sends it back with `since`; a new epoch means the room's numbering restarted.
  if (epoch !== undefined && epoch !== '') reply.epoch = epoch
  return reply
}
