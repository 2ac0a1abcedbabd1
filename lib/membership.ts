/**
 * Joining and leaving rooms: the local room index, presence through the adapter (announced by
 * presence.ts on a user's first connection in a room and after the last), and recovery of missed
 * messages. While a join is in progress the room's live frames are held for the joiner, so it
 * sees its reply first and every message once, in `seq` order. A replay is bounded today only by
 * the adapter's history; a per-join bound belongs where `join` writes the recovered frames.
 */
import type { Adapter, Recovery } from './adapter.js'
import type { Connection } from './connection.js'
import { isExcluded, type Delivery } from './delivery.js'
import { WsError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { Presence } from './presence.js'
import type { Registry } from './registry.js'
import { assertRoomName } from './room-name.js'

export interface RoomJoinedPayload {
  room: string
  members: string[]
  memberCount: number
  seq: number
  recovered?: boolean
}

type MembershipOptions = Pick<ResolvedOptions, 'authorizeJoin' | 'maxRoomsPerConnection'>

export class Membership {
  constructor (
    private readonly registry: Registry,
    private readonly adapter: Adapter,
    private readonly delivery: Delivery,
    private readonly presence: Presence,
    private readonly options: MembershipOptions,
  ) {}

  /**
   * Join `room`. Sends `room_joined` (with `id` when given), then any recovered messages, then the
   * live ones that arrived meanwhile (held until then), so the client sees the reply first and
   * every message in `seq` order.
   */
  async join (connection: Connection, room: string, since: number | undefined, id: string | undefined): Promise<void> {
    assertRoomName(room)
    hold(connection, room)
    let recoveredUpTo = 0
    try {
      if (!connection.rooms.has(room)) {
        this.checkRoomLimit(connection)
        const authorize = this.options.authorizeJoin
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
          if (presence.firstForUser) await this.presence.joined(room, connection.userId)
        }
      }
      const [{ members, memberCount }, lastSeq, recovery] = await Promise.all([
        this.presence.list(room),
        this.adapter.lastSeq(room),
        since === undefined ? undefined : this.adapter.recover(room, since),
      ])
      if (connection.closed) return
      recoveredUpTo = lastRecoveredSeq(recovery)
      const reply: RoomJoinedPayload = { room, members, memberCount, seq: Math.max(lastSeq, recoveredUpTo) }
      if (recovery !== undefined) reply.recovered = this.delivery.countRecovery(recovery.recovered)
      this.delivery.send(connection, 'room_joined', reply, id)
      // Recovered frames are part of the answer (bounded by the history size): never dropped.
      for (const frame of recovery?.frames ?? []) {
        if (frame.except !== undefined && isExcluded(connection, frame.except)) continue
        this.delivery.writeStored(connection, Buffer.from(frame.data))
      }
    } finally {
      // A member keeps what arrived meanwhile (minus what recovery sent); a refused joiner gets nothing.
      this.release(connection, room, connection.rooms.has(room) ? recoveredUpTo : Infinity)
    }
  }

  async leave (connection: Connection, room: string): Promise<void> {
    if (!connection.rooms.delete(room)) return
    connection.holding?.delete(room)
    const members = this.registry.rooms.get(room)
    if (members !== undefined) {
      members.delete(connection)
      if (members.size === 0) this.registry.rooms.delete(room)
    }
    if (await this.adapter.removeMember(room, connection.userId, connection.id)) await this.presence.left(room, connection.userId)
  }

  /** Leave every room of a connection that is going away; one failure does not stop the others. */
  async leaveAll (connection: Connection): Promise<void> {
    const leaving = [...connection.rooms]
    await Promise.all(leaving.map(async (room) => {
      try {
        await this.leave(connection, room)
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
    if (after === Infinity || connection.closed) return
    for (const frame of held) {
      if (frame.seq !== undefined && frame.seq <= after) continue
      this.delivery.writeStored(connection, frame.data)
    }
  }
}

/** From now until `release`, the room's live frames for this connection wait (see Delivery.deliverToRoom). */
function hold (connection: Connection, room: string): void {
  if (connection.holding === undefined) connection.holding = new Map()
  if (!connection.holding.has(room)) connection.holding.set(room, [])
}

function lastRecoveredSeq (recovery: Recovery | undefined): number {
  if (recovery === undefined || recovery.frames.length === 0) return 0
  return recovery.frames[recovery.frames.length - 1]!.seq
}
