/**
 * The clients of the chaos run: distinct users, each one generated client with its DEFAULT
 * options (reconnect with jittered backoff, re-join with recovery, pacing, offline queue, heartbeat)
 * — only the URL, the token and Node's `ws` are given. Each records, per room, what it went
 * through: its joins and re-joins (with `recovered` and the baseline `seq`), every durable message
 * it received (`seq` and the sender's id carried in the content), and every lost connection.
 */
import WebSocket from 'ws'
import { tokenFor } from '../../test/helpers/index.js'

export type RoomEvent =
  /** `recovered` is 'initial' for the first join; `at` is when the reply arrived. */
  | { kind: 'join', at: number, recovered: boolean | 'initial', seq: number }
  | { kind: 'msg', at: number, seq: number, id: string }
  /** The connection was lost (every room of the client). */
  | { kind: 'drop', at: number }

export interface SendRecord {
  readonly id: string
  readonly room: string
  readonly sentAt: number
  outcome: 'pending' | 'acked' | 'failed'
  error?: string
}

export interface FleetClient {
  readonly user: string
  readonly rooms: string[]
  readonly sdk: any
  readonly log: Map<string, RoomEvent[]>
  readonly sends: SendRecord[]
  /** Rooms re-joined since the last lost connection. */
  readonly rejoinedSince: Set<string>
  drops: number
  /** Things that must never happen with defaults: a refused re-join, the client stopping. */
  readonly problems: string[]
  /** Changes of the members views (`+user`/`-user` per room, timed), for explaining a divergence. */
  readonly memberChanges: Array<{ at: number, room: string, change: string }>
}

/** The room of the client's `k`-th membership: spread so every room gets about the same members. */
export function roomsOf (n: number, rooms: number, perClient: number): string[] {
  const step = Math.max(1, Math.floor(rooms / perClient))
  return Array.from({ length: Math.min(perClient, rooms) }, (_, k) => `room-${(n + k * step) % rooms}`)
}

export class Fleet {
  readonly clients: FleetClient[] = []
  private timers = new Set<NodeJS.Timeout>()
  private sending = false
  private readonly inFlight = new Set<Promise<unknown>>()

  constructor (private readonly generated: any, private readonly url: string, private readonly secret: string) {}

  /** Create `count` clients over `rooms` rooms (`perClient` each) and join them, `concurrency` at a time. */
  async join (count: number, rooms: number, perClient: number, concurrency = 25): Promise<void> {
    for (let n = 0; n < count; n++) this.clients.push(this.create(`user-${n}`, roomsOf(n, rooms, perClient)))
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < this.clients.length) {
        const client = this.clients[next++]!
        await Promise.all(client.rooms.map((room) => this.joinRoom(client, room)))
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }

  private create (user: string, rooms: string[]): FleetClient {
    const sdk = this.generated.createClient({ url: this.url, token: () => tokenFor(user, { secret: this.secret }), WebSocket })
    const client: FleetClient = { user, rooms, sdk, log: new Map(rooms.map((room) => [room, []])), sends: [], rejoinedSince: new Set(), drops: 0, problems: [], memberChanges: [] }
    sdk.onMessage((payload: { content: string }, meta: { room?: string, seq?: number }) => {
      if (meta.room === undefined || meta.seq === undefined) return
      client.log.get(meta.room)?.push({ kind: 'msg', at: Date.now(), seq: meta.seq, id: payload.content })
    })
    sdk.on('rejoined', (event: { room: string, recovered: boolean, seq: number }) => {
      client.log.get(event.room)?.push({ kind: 'join', at: Date.now(), recovered: event.recovered, seq: event.seq })
      client.rejoinedSince.add(event.room)
    })
    sdk.on('disconnected', () => {
      client.drops++
      client.rejoinedSince.clear()
      for (const log of client.log.values()) log.push({ kind: 'drop', at: Date.now() })
    })
    const views = new Map<string, Set<string>>()
    sdk.on('members', ({ room }: { room: string }) => {
      const now = new Set<string>((sdk.members(room)?.users ?? []) as string[])
      const before = views.get(room) ?? new Set<string>()
      for (const user of now) if (!before.has(user)) client.memberChanges.push({ at: Date.now(), room, change: `+${user}` })
      for (const user of before) if (!now.has(user)) client.memberChanges.push({ at: Date.now(), room, change: `-${user}` })
      views.set(room, now)
    })
    sdk.on('rejoinFailed', (event: { room: string, error: { code?: string } }) => client.problems.push(`${user}: re-join of ${event.room} refused (${String(event.error.code)})`))
    sdk.on('closed', (close: { code: number, reason: string }) => { if (this.sending) client.problems.push(`${user}: client stopped (${close.code} ${close.reason})`) })
    return client
  }

  private async joinRoom (client: FleetClient, room: string): Promise<void> {
    // Opened before the request: messages may reach the handler before the reply's promise settles.
    const entry = { kind: 'join' as const, at: Number.POSITIVE_INFINITY, recovered: 'initial' as const, seq: Number.NaN }
    client.log.get(room)!.push(entry)
    const reply = await client.sdk.sendJoinRoom({ room }) as { seq: number }
    entry.at = Date.now()
    entry.seq = reply.seq
  }

  /** Every client sends one durable message every `everyMs` on average (jittered), to one of its rooms. */
  startSending (everyMs: number, random: () => number): void {
    this.sending = true
    let counter = 0
    for (const client of this.clients) {
      const tick = (): void => {
        if (!this.sending) return
        const room = client.rooms[Math.floor(random() * client.rooms.length)]!
        const record: SendRecord = { id: `${client.user}#${++counter}`, room, sentAt: Date.now(), outcome: 'pending' }
        client.sends.push(record)
        const sent = client.sdk.sendMessage({ room, content: record.id }).then(
          () => { record.outcome = 'acked' },
          (error: { code?: string, name?: string }) => { record.outcome = 'failed'; record.error = error.code ?? error.name ?? String(error) },
        ).finally(() => this.inFlight.delete(sent))
        this.inFlight.add(sent)
        this.schedule(tick, everyMs * (0.5 + random()))
      }
      this.schedule(tick, everyMs * random())
    }
  }

  private schedule (fn: () => void, ms: number): void {
    const timer = setTimeout(() => { this.timers.delete(timer); fn() }, ms)
    this.timers.add(timer)
  }

  /** Stop sending and wait for every send to be acknowledged or to fail (bounded by the client's own timeouts). */
  async stopSending (): Promise<void> {
    this.sending = false
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  async closeAll (): Promise<void> {
    await Promise.allSettled(this.clients.map((client) => client.sdk.close()))
  }
}
