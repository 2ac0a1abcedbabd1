/**
 * The invariants of the chaos run, over what the clients recorded (bench/chaos/fleet.ts):
 *
 * - order: on each connection, a room's durable messages arrive with consecutive `seq`s, starting
 *   right after the join's baseline (`recovered: false` or first join) or after the last `seq` seen
 *   (`recovered: true`: the replay fills the gap); never a gap, a repeat or a step back;
 * - delivery: a message acknowledged to its sender reached every client that had joined its room
 *   before it was sent — live or replayed — unless that client re-joined with `recovered: false`
 *   after it was sent (the loss was reported); otherwise it is **lost**;
 * - members: every client's members view of a room equals the adapter's members on every instance,
 *   which equal the users whose clients are in the room.
 */
import type { FleetClient, RoomEvent } from './fleet.js'

export interface DeliveryFigures {
  sent: number
  acked: number
  failed: Record<string, number>
  /** Messages received by clients (each delivery counted once per receiver). */
  delivered: number
  /** Of those, received in a replay after a `recovered: true` re-join. */
  recovered: number
  /** Deliveries owed (acked message × member joined before it was sent). */
  owed: number
  /** Owed deliveries not received but covered by a `recovered: false` the client was told of. */
  reportedLost: number
  /** Owed deliveries neither received nor reported: must be 0. */
  lost: number
  /** Owed deliveries not received by a member that stayed connected through a numbering restart it was not told of. */
  lostInRestart: number
  duplicates: number
  /** Gaps, repeats and steps back of an already received message (duplicates are counted here too). */
  orderViolations: number
  /** A new message under a lower seq on a connection that stayed open: the numbering restarted and the member was not told. */
  unannouncedRestarts: number
  reconnects: number
  rejoinsRecovered: number
  rejoinsNotRecovered: number
}

export interface DeliveryReport {
  figures: DeliveryFigures
  /** Human-readable violations (capped), each with client, room and seq. */
  violations: string[]
}

/** Examples kept per kind of violation. */
const MAX_DETAILS = 8

/** Collects violations, a few examples of each kind. */
class Details {
  readonly lines: string[] = []
  private readonly counts = new Map<string, number>()
  add (kind: string, line: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1
    this.counts.set(kind, n)
    if (n <= MAX_DETAILS) this.lines.push(`${kind}: ${line}`)
  }
}

/** Order, duplicates and deliveries of one client in one room. */
function walk (client: FleetClient, room: string, log: RoomEvent[], figures: DeliveryFigures, details: Details, restarts: number[]): void {
  let expected: number | undefined
  let last: number | undefined
  let open = false
  let replayUpTo = -1
  const seen = new Set<string>()
  const around = (i: number): string => log.slice(Math.max(0, i - 6), i + 1).map((e) => e.kind === 'msg' ? String(e.seq) : e.kind === 'drop' ? 'drop' : `join(${String(e.recovered)},${e.seq})`).join(' ')
  for (const [index, event] of log.entries()) {
    if (event.kind === 'drop') { open = false; continue }
    if (event.kind === 'join') {
      open = true
      if (event.recovered === true) {
        figures.rejoinsRecovered++
        expected = last === undefined ? undefined : last + 1
        replayUpTo = event.seq
      } else {
        if (event.recovered === false) figures.rejoinsNotRecovered++
        expected = Number.isNaN(event.seq) ? undefined : event.seq + 1
        replayUpTo = -1
      }
      continue
    }
    figures.delivered++
    if (event.seq <= replayUpTo) figures.recovered++
    if (seen.has(event.id)) {
      figures.duplicates++
      details.add('duplicate', `${client.user} in ${room}: "${event.id}" received twice (seq ${event.seq}) at ${new Date(event.at).toISOString()}; log: ${around(index)}`)
    }
    const duplicate = seen.has(event.id)
    seen.add(event.id)
    if (!open || (expected !== undefined && event.seq !== expected)) {
      const where = `${client.user} in ${room}: expected seq ${String(expected)}, got ${event.seq} ("${event.id}") at ${new Date(event.at).toISOString()}`
      if (!open) {
        figures.orderViolations++
        details.add('order', `${client.user} in ${room}: seq ${event.seq} ("${event.id}") arrived before the re-join's reply`)
      } else if (event.seq > expected!) {
        figures.orderViolations++
        details.add('order (gap)', where)
      } else if (duplicate) {
        figures.orderViolations++
      } else {
        // A new message under a lower seq: the room's numbering restarted while this member stayed connected.
        figures.unannouncedRestarts++
        restarts.push(event.at)
        details.add('numbering restarted under a connected member, no recovered: false', where)
      }
    }
    expected = event.seq + 1
    last = event.seq
  }
}

/** The time the client's first join of `room` was answered (Infinity if never). */
function joinedAt (log: RoomEvent[]): number {
  const first = log.find((event) => event.kind === 'join')
  return first === undefined ? Number.POSITIVE_INFINITY : first.at
}

export function checkDeliveries (clients: FleetClient[]): DeliveryReport {
  const figures: DeliveryFigures = {
    sent: 0, acked: 0, failed: {}, delivered: 0, recovered: 0, owed: 0, reportedLost: 0, lost: 0, lostInRestart: 0,
    duplicates: 0, orderViolations: 0, unannouncedRestarts: 0, reconnects: 0, rejoinsRecovered: 0, rejoinsNotRecovered: 0,
  }
  const details = new Details()
  /** client → room → when it saw the numbering restart without being told. */
  const restartsOf = new Map<FleetClient, Map<string, number[]>>()
  for (const client of clients) {
    figures.reconnects += client.drops
    const byRoom = new Map<string, number[]>()
    restartsOf.set(client, byRoom)
    for (const [room, log] of client.log) {
      const restarts: number[] = []
      byRoom.set(room, restarts)
      walk(client, room, log, figures, details, restarts)
    }
  }
  // Who received what, per room.
  const received = new Map<FleetClient, Set<string>>()
  for (const client of clients) {
    const ids = new Set<string>()
    for (const log of client.log.values()) for (const event of log) if (event.kind === 'msg') ids.add(event.id)
    received.set(client, ids)
  }
  const membersOf = new Map<string, FleetClient[]>()
  for (const client of clients) for (const room of client.rooms) membersOf.set(room, [...membersOf.get(room) ?? [], client])
  for (const sender of clients) {
    for (const send of sender.sends) {
      figures.sent++
      if (send.outcome === 'failed') figures.failed[send.error ?? 'unknown'] = (figures.failed[send.error ?? 'unknown'] ?? 0) + 1
      if (send.outcome !== 'acked') continue
      figures.acked++
      for (const member of membersOf.get(send.room) ?? []) {
        const log = member.log.get(send.room)!
        if (joinedAt(log) > send.sentAt) continue
        figures.owed++
        if (received.get(member)!.has(send.id)) continue
        const reported = log.some((event) => event.kind === 'join' && event.recovered === false && event.at > send.sentAt)
        if (reported) {
          figures.reportedLost++
          continue
        }
        // Sent before a restart of the numbering this member was not told of: lost with the data (see unannouncedRestarts).
        if (restartsOf.get(member)!.get(send.room)!.some((at) => at > send.sentAt)) {
          figures.lostInRestart++
          details.add('numbering restarted under a connected member, lost with it', `"${send.id}" (${send.room}) never reached ${member.user}`)
          continue
        }
        figures.lost++
        details.add('lost', `"${send.id}" (${send.room}, sent ${new Date(send.sentAt).toISOString()}) never reached ${member.user}, who was told nothing`)
      }
    }
  }
  return { figures, violations: details.lines }
}

/** The latest position of a client in a room: the last message's seq, or the last join's baseline. */
export function positionOf (log: RoomEvent[]): number | undefined {
  for (let i = log.length - 1; i >= 0; i--) {
    const event = log[i]!
    if (event.kind === 'msg') return event.seq
    if (event.kind === 'join' && event.recovered !== true) return event.seq
  }
  return undefined
}

export interface Divergence {
  /** The adapter's members on some instance differ from the clients in the room; a client not open or not re-joined; clients at different seqs. */
  state: string[]
  /** A client's members view differs from the clients in the room. */
  views: string[]
}

/**
 * What still differs between the clients and the truth: empty once converged. `truth` has one
 * members map per instance (room → sorted users).
 */
export function divergence (clients: FleetClient[], truth: Array<Record<string, string[]>>): Divergence {
  const out: string[] = []
  const views: string[] = []
  const expected = new Map<string, string[]>()
  for (const client of clients) for (const room of client.rooms) expected.set(room, [...expected.get(room) ?? [], client.user])
  for (const [room, users] of expected) {
    const want = JSON.stringify([...users].sort())
    for (const [i, members] of truth.entries()) {
      if (JSON.stringify(members[room] ?? []) !== want) out.push(`instance ${i}: members of ${room} differ from the clients in it (${(members[room] ?? []).length} vs ${users.length})`)
    }
  }
  const positions = new Map<string, Set<number | undefined>>()
  for (const client of clients) {
    if (client.sdk.state !== 'open') { out.push(`${client.user}: ${String(client.sdk.state)}`); continue }
    for (const room of client.rooms) {
      if (client.drops > 0 && !client.rejoinedSince.has(room)) out.push(`${client.user}: ${room} not re-joined yet`)
      const view = client.sdk.members(room) as { users: string[], complete: boolean } | undefined
      const want = JSON.stringify([...expected.get(room)!].sort())
      if (view === undefined || !view.complete || JSON.stringify([...view.users].sort()) !== want) {
        const has = new Set(view?.users ?? [])
        const missing = expected.get(room)!.filter((user) => !has.has(user))
        const extra = [...has].filter((user) => !expected.get(room)!.includes(user))
        const history = (user: string): string => client.memberChanges.filter((c) => c.room === room && c.change.slice(1) === user).map((c) => `${c.change[0]}${new Date(c.at).toISOString().slice(11, 23)}`).join(' ')
        views.push(`${client.user}: members view of ${room} differs (missing ${missing.map((u) => `${u} [${history(u)}]`).join(' ') || 'none'}, extra ${extra.map((u) => `${u} [${history(u)}]`).join(' ') || 'none'}${view?.complete === false ? ', incomplete' : ''})`)
      }
      const set = positions.get(room) ?? new Set()
      set.add(positionOf(client.log.get(room)!))
      positions.set(room, set)
    }
  }
  for (const [room, set] of positions) if (set.size > 1) out.push(`${room}: clients are at different seqs (${[...set].join(', ')})`)
  return { state: out, views }
}
