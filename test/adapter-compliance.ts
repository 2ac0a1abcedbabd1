/**
 * Shared suites run against every adapter.
 *
 * `adapterCompliance` drives an adapter directly through a recording host: presence rules, `seq`,
 * history and recovery, exclusions, user delivery (`multiInstanceCompliance`, in
 * adapter-cluster-compliance.ts, does the same across instances). `recoverySuite` runs the recovery scenarios
 * end to end (real servers, real WebSocket clients) on a group of instances sharing one cluster
 * (for the memory adapter, the "instances" are one app).
 */
import { randomUUID } from 'node:crypto'
import type { Adapter, AdapterHost, Exclusions, MembersAfter } from '../plugin.js'
import { roomFrameParts } from '../lib/protocol/stringify.js'
import { asLeave } from '../lib/presence.js'
import { connect, type Frame, type TestApp, type TestClient } from './helpers/index.js'

/** A page without its presence version (checked in its own test). */
function listed ({ members, count }: MembersAfter): MembersAfter {
  return { members, count }
}

export interface Tap {
  test(name: string, fn: (t: any) => Promise<void> | void): unknown
}

export interface HistoryOptions {
  historySize?: number
  historyTtlMs?: number
}

interface RoomDelivery { room: string, data: string, seq: number | undefined, except: Exclusions | undefined }

/** An AdapterHost that records what the adapter asks it to deliver. */
export class RecordingHost implements AdapterHost {
  readonly instanceId = randomUUID()
  readonly rooms: RoomDelivery[] = []
  readonly users: Array<{ userId: string, data: string }> = []
  readonly left: Array<{ room: string, userId: string }> = []
  readonly log = { warn () {}, error () {}, info () {} }
  private readonly waiters: Array<() => void> = []

  deliverToRoom (room: string, data: Buffer, seq: number | undefined, except: Exclusions | undefined): void {
    this.rooms.push({ room, data: data.toString(), seq, except })
    this.wake()
  }

  deliverToUser (userId: string, data: Buffer): void {
    this.users.push({ userId, data: data.toString() })
    this.wake()
  }

  userLeft (room: string, userId: string): void {
    this.left.push({ room, userId })
    this.wake()
  }

  /** Resolve once `check` holds (deliveries may be asynchronous); reject after `timeoutMs`. */
  async until (check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  private wake (): void {
    for (const wake of this.waiters.splice(0)) wake()
  }
}

/**
 * A host that takes departures in batches (`usersLeft`), as the plugin's does: it records each
 * batch and announces it with one `member_count` frame into `room`, published through `adapter`.
 */
export class BatchingHost extends RecordingHost {
  readonly batches: Array<ReadonlyArray<readonly [string, string, number?]>> = []
  adapter: Adapter | undefined

  constructor (private readonly room: string) {
    super()
  }

  async usersLeft (departures: ReadonlyArray<readonly [room: string, userId: string, version?: number]>): Promise<void> {
    this.batches.push(departures)
    const frame = roomFrameParts('member_count', this.room, { memberCount: departures.length })
    await this.adapter!.publishToRoom({ room: this.room, frame, durable: false, except: undefined })
  }
}

export type AdapterFactory = (options: HistoryOptions) => Adapter

export function frame (room: string, content: string): ReturnType<typeof roomFrameParts> {
  return roomFrameParts('message', room, { userId: 'bob', content, ts: 1 })
}

export function adapterCompliance (tap: Tap, create: AdapterFactory): void {
  async function start (t: any, options: HistoryOptions = {}): Promise<{ adapter: Adapter, host: RecordingHost }> {
    const adapter = create(options)
    const host = new RecordingHost()
    await adapter.init(host)
    t.teardown(() => adapter.close())
    return { adapter, host }
  }

  async function publishMany (adapter: Adapter, room: string, count: number, from = 0): Promise<number[]> {
    const seqs: number[] = []
    for (let i = from; i < from + count; i++) {
      seqs.push((await adapter.publishToRoom({ room, frame: frame(room, `m${i}`), durable: true, except: undefined }))!)
    }
    return seqs
  }

  tap.test('a user\'s first connection in a room is an arrival; a second connection is not', async (t) => {
    const { adapter } = await start(t)
    t.equal((await adapter.addMember('r', 'alice', 'a1')).firstForUser, true)
    t.equal((await adapter.addMember('r', 'alice', 'a2')).firstForUser, false)
    t.equal((await adapter.addMember('r', 'bob', 'b1')).firstForUser, true)
    t.equal((await adapter.addMember('other', 'alice', 'a1')).firstForUser, true, 'rooms are independent')
  })

  tap.test('a user leaves a room with their last connection only', async (t) => {
    const { adapter } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    await adapter.addMember('r', 'alice', 'a2')
    t.equal(asLeave(await adapter.removeMember('r', 'alice', 'a1')).lastForUser, false)
    t.equal(asLeave(await adapter.removeMember('r', 'alice', 'a2')).lastForUser, true)
    t.same(await adapter.members('r'), [])
  })

  tap.test('removing a connection that is not a member changes nothing', async (t) => {
    const { adapter } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    t.equal(asLeave(await adapter.removeMember('r', 'alice', 'nope')).lastForUser, false)
    t.equal(asLeave(await adapter.removeMember('nowhere', 'alice', 'a1')).lastForUser, false)
    t.same(await adapter.members('r'), ['alice'])
  })

  tap.test('adding the same connection twice counts it once', async (t) => {
    const { adapter } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    t.equal((await adapter.addMember('r', 'alice', 'a1')).firstForUser, false)
    t.equal(asLeave(await adapter.removeMember('r', 'alice', 'a1')).lastForUser, true, 'one removal is the last')
  })

  tap.test('each change of a room\'s users gets a higher presence version, and lists are read with their count and version', async (t) => {
    const { adapter } = await start(t)
    const v1 = (await adapter.addMember('r', 'alice', 'a1')).version!
    const v2 = (await adapter.addMember('r', 'bob', 'b1')).version!
    t.ok(v1 > 0 && v2 > v1, `arrivals: ${v1} < ${v2}`)
    t.equal((await adapter.addMember('r', 'alice', 'a2')).version, undefined, 'a second connection changes no user')
    t.equal(asLeave(await adapter.removeMember('r', 'alice', 'a2')).version, undefined, 'nor does a connection that is not the last')
    t.same(await adapter.memberList?.('r', 10), { members: ['alice', 'bob'], count: 2, version: v2 })
    const v3 = asLeave(await adapter.removeMember('r', 'alice', 'a1')).version!
    t.ok(v3 > v2, `a departure: ${v2} < ${v3}`)
    t.same(await adapter.memberList?.('r', 10), { members: ['bob'], count: 1, version: v3 })
    t.same(await adapter.membersAfter?.('r', undefined, 10), { members: ['bob'], count: 1, version: v3 })
    const v4 = (await adapter.addMember('r', 'alice', 'a3')).version!
    t.ok(v4 > v3, 'a return is newer than the departure')
    await adapter.removeMember('r', 'alice', 'a3')
    await adapter.removeMember('r', 'bob', 'b1')
    t.ok((await adapter.addMember('r', 'carol', 'c1')).version! > v4, 'a room that emptied goes on above the versions it gave')
  })

  tap.test('a room counts its distinct users and lists at most the limit asked for', async (t) => {
    const { adapter } = await start(t)
    const users = ['u1', 'u2', 'u3', 'u4', 'u5']
    for (const userId of users) await adapter.addMember('big', userId, `${userId}-a`)
    await adapter.addMember('big', 'u1', 'u1-b')
    t.equal(await adapter.memberCount?.('big'), 5, 'a second connection is not a second member')
    t.equal(await adapter.memberCount?.('nowhere'), 0)
    const some = await adapter.members('big', 2)
    t.equal(some.length, 2)
    t.ok(some.every((userId) => users.includes(userId)) && new Set(some).size === 2, 'distinct members of the room')
    t.same((await adapter.members('big', 10)).sort(), users, 'a limit above the size lists everyone')
    await adapter.removeMember('big', 'u5', 'u5-a')
    t.equal(await adapter.memberCount?.('big'), 4)
  })

  tap.test('members are the distinct users of a room', async (t) => {
    const { adapter } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    await adapter.addMember('r', 'alice', 'a2')
    await adapter.addMember('r', 'bob', 'b1')
    await adapter.addMember('s', 'carol', 'c1')
    t.same((await adapter.members('r')).sort(), ['alice', 'bob'])
    t.same(await adapter.members('empty'), [])
  })

  tap.test('membersAfter pages a room\'s users in sorted order, through arrivals and departures', async (t) => {
    const { adapter } = await start(t)
    for (const userId of ['m', 'c', 'x', 'f']) await adapter.addMember('p', userId, `${userId}1`)
    t.same(listed(await adapter.membersAfter!('p', undefined, 2)), { members: ['c', 'f'], count: 4 })
    await adapter.addMember('p', 'a', 'a1')
    await adapter.addMember('p', 'g', 'g1')
    await adapter.removeMember('p', 'x', 'x1')
    t.same(listed(await adapter.membersAfter!('p', 'f', 10)), { members: ['g', 'm'], count: 5 }, 'after the cursor, kept in order')
    t.same(listed(await adapter.membersAfter!('p', undefined, 10)), { members: ['a', 'c', 'f', 'g', 'm'], count: 5 })
    t.same(listed(await adapter.membersAfter!('empty', undefined, 10)), { members: [], count: 0 })
  })

  tap.test('presence state: a user\'s state is their most recently set one, falls back when that connection goes, and ends with the user', async (t) => {
    const { adapter } = await start(t)
    const states = adapter.presenceState!
    await adapter.addMember('s', 'alice', 'a1')
    await adapter.addMember('s', 'alice', 'a2')
    await adapter.addMember('s', 'bob', 'b1')
    t.same(await states.set('s', 'alice', 'a1', '"online"'), { changed: true, state: '"online"' })
    t.same(await states.set('s', 'alice', 'a2', '"away"'), { changed: true, state: '"away"' })
    t.same(await states.set('s', 'alice', 'a1', '"away"'), { changed: false, state: '"away"' }, 'the same merged state: no change')
    t.same(await states.get('s', ['alice', 'bob', 'nobody']), ['"away"', undefined, undefined])
    t.equal(await states.set('s', 'carol', 'c1', '"online"'), undefined, 'a connection that is not a member sets nothing')
    t.same(await states.set('s', 'alice', 'a1', '"online"'), { changed: true, state: '"online"' })
    t.same(await states.clear('s', 'alice', 'a1'), { changed: true, state: '"away"' }, 'falls back to the next most recent')
    t.same(await states.clear('s', 'alice', 'a1'), { changed: false, state: '"away"' }, 'clearing twice changes nothing')
    t.same(await states.clear('s', 'bob', 'b1'), { changed: false, state: undefined }, 'a connection without a state')
    await adapter.removeMember('s', 'alice', 'a2')
    t.same(await states.get('s', ['alice']), [undefined], 'removing the member forgets its state')
    await adapter.addMember('s', 'alice', 'a3')
    t.same(await states.get('s', ['alice']), [undefined], 'back in the room with no state')
  })

  tap.test('durable publishes get seq 1, 2, 3… per room, and lastSeq follows', async (t) => {
    const { adapter } = await start(t)
    t.equal(await adapter.lastSeq('r'), 0)
    t.same(await publishMany(adapter, 'r', 3), [1, 2, 3])
    t.same(await publishMany(adapter, 's', 2), [1, 2], 'each room has its own sequence')
    t.equal(await adapter.lastSeq('r'), 3)
  })

  tap.test('a durable delivery reaches local members with its seq spliced into the frame', async (t) => {
    const { adapter, host } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    await publishMany(adapter, 'r', 2)
    await host.until(() => host.rooms.length === 2, 'two deliveries')
    t.same(host.rooms.map((d) => d.seq), [1, 2])
    t.same(JSON.parse(host.rooms[1]!.data), { type: 'message', room: 'r', seq: 2, payload: { userId: 'bob', content: 'm1', ts: 1 } })
  })

  tap.test('a durable publish repeated with the same idempotency key is sequenced and delivered once; every attempt answers its seq', async (t) => {
    const { adapter, host } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    const publish = (content: string, idempotencyKey: string): Promise<number | undefined> | number | undefined =>
      adapter.publishToRoom({ room: 'r', frame: frame('r', content), durable: true, except: undefined, idempotencyKey })
    t.equal(await publish('first', 'k1'), 1)
    t.equal(await publish('first, retried', 'k1'), 1, 'the retry answers the first attempt\'s seq')
    t.equal(await publish('first, again', 'k1'), 1, 'and so does every later one')
    t.equal(await publish('second', 'k2'), 2, 'another key is another message')
    t.equal(await adapter.lastSeq('r'), 2)
    // Deliveries come in seq order: a duplicate would arrive before 'second'.
    await host.until(() => host.rooms.length >= 2, 'two deliveries')
    t.same(host.rooms.slice(0, 2).map((d) => JSON.parse(d.data).payload.content), ['first', 'second'], 'each message delivered once')
    const recovery = await adapter.recover('r', 0)
    t.same(recovery.frames.map((f) => JSON.parse(f.data).payload.content), ['first', 'second'], 'and kept once')
  })

  tap.test('non-durable publishes carry no seq and do not advance it', async (t) => {
    const { adapter, host } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    t.equal(await adapter.publishToRoom({ room: 'r', frame: roomFrameParts('typing', 'r', { userId: 'bob' }), durable: false, except: undefined }), undefined)
    await host.until(() => host.rooms.length === 1, 'the delivery')
    t.equal(host.rooms[0]!.seq, undefined)
    t.same(JSON.parse(host.rooms[0]!.data), { type: 'typing', room: 'r', payload: { userId: 'bob' } })
    t.equal(await adapter.lastSeq('r'), 0)
  })

  tap.test('exclusions travel with the delivery', async (t) => {
    const { adapter, host } = await start(t)
    await adapter.addMember('r', 'alice', 'a1')
    const except = { users: ['bob'], connections: ['c9'] }
    await adapter.publishToRoom({ room: 'r', frame: roomFrameParts('typing', 'r', { userId: 'bob' }), durable: false, except })
    await adapter.publishToRoom({ room: 'r', frame: frame('r', 'x'), durable: true, except: { users: ['carol'] } })
    await host.until(() => host.rooms.length === 2, 'two deliveries')
    t.same(host.rooms[0]!.except, except)
    t.same(host.rooms[1]!.except, { users: ['carol'] })
  })

  tap.test('a user delivery reaches the user\'s connections', async (t) => {
    const { adapter, host } = await start(t)
    await adapter.addConnection?.('alice', 'a1')
    await adapter.publishToUser('alice', '{"type":"ping"}')
    await host.until(() => host.users.length === 1, 'the user delivery')
    t.same(host.users, [{ userId: 'alice', data: '{"type":"ping"}' }])
  })

  tap.test('recover returns exactly the messages after since, oldest first, with their seq', async (t) => {
    const { adapter } = await start(t)
    await publishMany(adapter, 'r', 10)
    await adapter.publishToRoom({ room: 'r', frame: roomFrameParts('typing', 'r', { userId: 'bob' }), durable: false, except: undefined })
    const recovery = await adapter.recover('r', 4)
    t.equal(recovery.recovered, true)
    t.same(recovery.frames.map((f) => f.seq), [5, 6, 7, 8, 9, 10])
    t.same(recovery.frames.map((f) => JSON.parse(f.data).payload.content), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9'])
    t.same(recovery.frames.map((f) => JSON.parse(f.data).seq), [5, 6, 7, 8, 9, 10], 'frames carry their seq')
  })

  tap.test('historyBefore pages backwards from a seq: the newest frames below it, oldest first, with their exclusions', async (t) => {
    const { adapter } = await start(t)
    await publishMany(adapter, 'r', 10)
    await adapter.publishToRoom({ room: 'r', frame: frame('r', 'secret'), durable: true, except: { users: ['carol'] } })
    const seqs = async (before: number, limit: number): Promise<number[]> => (await adapter.historyBefore!('r', before, limit)).map((f) => f.seq)
    const newest = await adapter.historyBefore!('r', Number.MAX_SAFE_INTEGER, 3)
    t.same(newest.map((f) => f.seq), [9, 10, 11])
    t.same(newest.map((f) => JSON.parse(f.data).seq), [9, 10, 11], 'frames carry their seq')
    t.same(JSON.parse(newest[0]!.data).payload.content, 'm8')
    t.same(newest[2]!.except, { users: ['carol'] })
    t.same(await seqs(9, 3), [6, 7, 8])
    t.same(await seqs(3, 5), [1, 2])
    t.same(await seqs(1, 5), [])
    t.same(await seqs(100, 2), [10, 11], 'a before beyond the room\'s last seq is the newest page')
    t.same(await adapter.historyBefore!('fresh', Number.MAX_SAFE_INTEGER, 5), [], 'a room without messages')
  })

  tap.test('historyBefore ends where the kept history ends, without holes', async (t) => {
    const { adapter } = await start(t, { historySize: 5 })
    await publishMany(adapter, 'r', 40)
    t.same((await adapter.historyBefore!('r', Number.MAX_SAFE_INTEGER, 5)).map((f) => f.seq), [36, 37, 38, 39, 40])
    // Redis trims approximately, so it may keep a few more; whatever is kept is contiguous.
    const older = (await adapter.historyBefore!('r', 36, 5)).map((f) => f.seq)
    t.ok(older.length <= 5)
    t.same(older, older.map((_seq, i) => 36 - older.length + i), 'the newest below 36, contiguous')
  })

  tap.test('recover at the last seq is recovered with nothing to replay', async (t) => {
    const { adapter } = await start(t)
    await publishMany(adapter, 'r', 3)
    t.same(await adapter.recover('r', 3), { recovered: true, frames: [] })
    t.same(await adapter.recover('fresh', 0), { recovered: true, frames: [] }, 'a room without messages recovers from 0')
  })

  tap.test('recover from before the kept history is not recovered', async (t) => {
    const { adapter } = await start(t, { historySize: 5 })
    await publishMany(adapter, 'r', 40)
    t.same(await adapter.recover('r', 0), { recovered: false, frames: [] })
    const recent = await adapter.recover('r', 37)
    t.same(recent.frames.map((f) => f.seq), [38, 39, 40], 'what history still holds is recoverable')
  })

  tap.test('a room\'s numbering has one epoch while it lasts; recover against another epoch is not recovered', async (t) => {
    const { adapter } = await start(t)
    const position = adapter.position?.bind(adapter)
    if (position === undefined) {
      t.skip('this adapter names no epochs')
      return
    }
    const { epoch } = await position('r')
    t.type(epoch, 'string')
    t.ok(epoch.length > 0, 'a room has an epoch before its first message')
    await publishMany(adapter, 'r', 3)
    t.same(await position('r'), { seq: 3, epoch }, 'messages keep the epoch')
    t.equal((await adapter.recover('r', 1, epoch)).recovered, true, 'recovered within the epoch')
    t.same(await adapter.recover('r', 1, `${epoch}-before`), { recovered: false, frames: [] }, 'never across epochs')
    t.equal((await adapter.recover('r', 1)).recovered, true, 'without an epoch (older clients), seq alone decides')
  })

  tap.test('recover from a seq the room never reached is not recovered', async (t) => {
    const { adapter } = await start(t)
    await publishMany(adapter, 'r', 2)
    t.same(await adapter.recover('r', 7), { recovered: false, frames: [] })
  })

  tap.test('recover from messages older than historyTtlMs is not recovered', async (t) => {
    const { adapter } = await start(t, { historyTtlMs: 150 })
    await adapter.addMember('r', 'alice', 'a1')
    await publishMany(adapter, 'r', 3)
    t.equal((await adapter.recover('r', 1)).recovered, true, 'still fresh')
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.same(await adapter.recover('r', 1), { recovered: false, frames: [] })
  })
}

/** Instances sharing one cluster; the same app may appear more than once (single-process adapters). */
export type ClusterFactory = (t: any, count: number, options?: HistoryOptions) => Promise<TestApp[]>

async function messagesOf (client: TestClient, count: number): Promise<Frame[]> {
  const out: Frame[] = []
  for (let i = 0; i < count; i++) out.push(await client.waitFor('message', 3000, `message ${i + 1} of ${count}`))
  return out
}

async function send (client: TestClient, room: string, contents: string[]): Promise<void> {
  for (const content of contents) {
    const reply = await client.request('message', { room, content })
    if (reply.type !== 'ack') throw new Error(`message refused: ${JSON.stringify(reply)}`)
  }
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i)

export function recoverySuite (tap: Tap, cluster: ClusterFactory): void {
  tap.test('a client that reconnects to another instance with since receives exactly the 100 it missed, in order', async (t) => {
    const [a, b, c] = await cluster(t, 3)
    const alice = await connect(t, a!, 'alice')
    const bob = await connect(t, b!, 'bob')
    const carol = await connect(t, c!, 'carol')
    await alice.request('join_room', { room: 'r' })
    await bob.request('join_room', { room: 'r' })
    await carol.request('join_room', { room: 'r' })
    await send(bob, 'r', ['before'])
    const seen = (await alice.waitFor('message')).seq!
    await alice.close()

    const missed = range(0, 100).map((i) => `missed ${i}`)
    await Promise.all([send(bob, 'r', missed.slice(0, 50)), send(carol, 'r', missed.slice(50))])
    const again = await connect(t, b!, 'alice')
    const reply = await again.request('join_room', { room: 'r', since: seen })
    t.equal(reply.type, 'room_joined')
    t.equal(reply.payload.recovered, true)
    t.equal(reply.payload.seq, seen + 100)
    const recovered = await messagesOf(again, 100)
    t.same(recovered.map((m) => m.seq), range(seen + 1, 100), 'every missed seq, in order')
    t.same(new Set(recovered.map((m) => m.payload.content)), new Set(missed), 'exactly the missed messages')
    await send(carol, 'r', ['live'])
    const live = await again.waitFor('message')
    t.same([live.seq, live.payload.content], [seen + 101, 'live'], 'live messages follow, no duplicate in between')
    t.same(again.pending('message'), [])
  })

  tap.test('recovery honours the exclusions a durable broadcast was sent with', async (t) => {
    const [a, b] = await cluster(t, 2)
    const alice = await connect(t, a!, 'alice')
    await alice.request('join_room', { room: 'x' })
    await a!.app.ws.broadcast('x', 'message', { userId: 'system', content: 'for everyone', ts: 1 })
    await a!.app.ws.broadcast('x', 'message', { userId: 'system', content: 'not for bob', ts: 2 }, { except: { users: ['bob'] } })
    await a!.app.ws.broadcast('x', 'message', { userId: 'system', content: 'for everyone again', ts: 3 })
    for (let i = 0; i < 3; i++) await alice.waitFor('message')
    const bob = await connect(t, b!, 'bob')
    const reply = await bob.request('join_room', { room: 'x', since: 0 })
    t.match(reply.payload, { seq: 3, recovered: true })
    t.same((await messagesOf(bob, 2)).map((m) => m.payload.content), ['for everyone', 'for everyone again'])
    await bob.request('ping')
    t.same(bob.pending('message'), [], 'the excluded message is not replayed')
    const carol = await connect(t, b!, 'carol')
    await carol.request('join_room', { room: 'x', since: 0 })
    t.same((await messagesOf(carol, 3)).map((m) => m.payload.content), ['for everyone', 'not for bob', 'for everyone again'])
  })

  tap.test('messages published while a client recovers arrive once each, in seq order, after the missed ones', async (t) => {
    const [a, b] = await cluster(t, 2)
    const alice = await connect(t, a!, 'alice')
    const bob = await connect(t, b!, 'bob')
    await alice.request('join_room', { room: 'r' })
    await bob.request('join_room', { room: 'r' })
    await send(bob, 'r', ['first'])
    const seen = (await alice.waitFor('message')).seq!
    await alice.close()
    await send(bob, 'r', range(0, 20).map((i) => `missed ${i}`))
    const again = await connect(t, a!, 'alice')
    const during = send(bob, 'r', range(0, 30).map((i) => `during ${i}`))
    const reply = await again.request('join_room', { room: 'r', since: seen })
    t.equal(reply.payload.recovered, true)
    await during
    const all = await messagesOf(again, 50)
    t.same(all.map((m) => m.seq), range(seen + 1, 50), 'no gap, no duplicate, in order')
    t.same(all.map((m) => m.payload.content), [...range(0, 20).map((i) => `missed ${i}`), ...range(0, 30).map((i) => `during ${i}`)])
    t.same(again.pending('message'), [])
  })

  tap.test('since older than the kept history answers recovered: false and replays nothing', async (t) => {
    const [a, b] = await cluster(t, 2, { historySize: 10 })
    const bob = await connect(t, a!, 'bob')
    await bob.request('join_room', { room: 'r' })
    await send(bob, 'r', range(0, 60).map((i) => `m${i}`))
    const alice = await connect(t, b!, 'alice')
    const reply = await alice.request('join_room', { room: 'r', since: 1 })
    t.equal(reply.payload.recovered, false)
    t.equal(reply.payload.seq, 60, 'the reply still says where the room is')
    await send(bob, 'r', ['after'])
    const next = await alice.waitFor('message')
    t.same([next.seq, next.payload.content], [61, 'after'], 'the first message is a live one')
  })

  tap.test('since ahead of the room answers recovered: false', async (t) => {
    const [a] = await cluster(t, 1)
    const alice = await connect(t, a!, 'alice')
    const reply = await alice.request('join_room', { room: 'r', since: 5 })
    const { epoch, version, ...rest } = reply.payload
    t.same(rest, { room: 'r', members: ['alice'], memberCount: 1, seq: 0, recovered: false })
    t.type(epoch, 'string', 'with the epoch of the room\'s numbering')
  })
}
