/**
 * Soak: waves of connections that join, chat, leave and disconnect (cleanly and abruptly), then
 * a check that the hub is empty again: no connections, users, rooms, timers, sockets or listeners,
 * and a bounded heap.
 *
 * The clients here are bare `ws` sockets: the test client keeps every frame it ever received,
 * which would show up as heap growth of the test itself.
 */
import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import WebSocket from 'ws'
import { buildApp, sleep, tokenFor, type TestApp } from './helpers/index.js'

const WAVES = Number(process.env.SOAK_WAVES ?? 4)
const PER_WAVE = 300
const ROOMS = 20
const USERS = 300
/** Heap growth allowed over the whole run, after GC (history of the memory adapter included). */
const HEAP_BOUND = 6 * 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

async function settledHeap (): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(20)
  }
  return process.memoryUsage().heapUsed
}

/** Counts of active resources by kind: timers, TCP handles… */
function resources (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
  return counts
}

/**
 * Timers created while tracking that neither fired nor were cleared. Unref'd timers (the hub's
 * token-expiry timers are) do not show in `process.getActiveResourcesInfo()`, so count them here.
 */
function trackTimers (): { live: () => number, created: () => number, stop: () => void } {
  const live = new Set<unknown>()
  let created = 0
  const realSet = globalThis.setTimeout
  const realClear = globalThis.clearTimeout
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSet((...a: unknown[]) => { live.delete(handle); fn(...a) }, ms, ...args)
    live.add(handle)
    created++
    return handle
  }) as typeof setTimeout
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle)
    realClear(handle)
  }) as typeof clearTimeout
  return {
    live: () => live.size,
    created: () => created,
    stop: () => { globalThis.setTimeout = realSet; globalThis.clearTimeout = realClear },
  }
}

interface SoakClient { socket: WebSocket, request(frame: object): Promise<any>, closed: Promise<number> }

async function open (server: TestApp, user: string): Promise<SoakClient> {
  const socket = new WebSocket(`${server.url}?token=${tokenFor(user, { expiresInMs: 600_000 })}`)
  const pending = new Map<string, (frame: any) => void>()
  let nextId = 0
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string, id?: string }
      if (frame.type === 'connected') resolve()
      if (frame.id !== undefined) {
        pending.get(frame.id)?.(frame)
        pending.delete(frame.id)
      }
    })
  })
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  await connected
  return {
    socket,
    closed,
    request: async (frame) => {
      const id = `q${++nextId}`
      const reply = new Promise((resolve) => pending.set(id, resolve))
      socket.send(JSON.stringify({ ...frame, id }))
      return reply
    },
  }
}

/** Arrive: connect and join 2–3 rooms. */
async function arrive (server: TestApp, n: number): Promise<{ client: SoakClient, rooms: string[] }> {
  const client = await open(server, `u${n % USERS}`)
  const rooms = [`r${n % ROOMS}`, `r${(n * 7 + 3) % ROOMS}`, `r${(n * 13 + 5) % ROOMS}`].slice(0, 2 + (n % 2))
  for (const room of rooms) {
    const reply = await client.request({ type: 'join_room', payload: { room } })
    if (reply.type !== 'room_joined') throw new Error(`join: ${JSON.stringify(reply)}`)
  }
  return { client, rooms }
}

/** Chat, type, leave one room, then go in one of four ways (two of them abrupt). */
async function depart ({ client, rooms }: { client: SoakClient, rooms: string[] }, n: number): Promise<string | undefined> {
  const ack = await client.request({ type: 'message', payload: { room: rooms[0], content: `hello from ${n}` } })
  if (ack.type !== 'ack') return `message: ${JSON.stringify(ack)}`
  client.socket.send(JSON.stringify({ type: 'typing', payload: { room: rooms[1] } }))
  const left = await client.request({ type: 'leave_room', payload: { room: rooms[0] } })
  if (left.type !== 'room_left') return `leave: ${JSON.stringify(left)}`
  switch (n % 4) {
    case 0: client.socket.close(1000); break
    case 1: client.socket.terminate(); break
    // Abrupt, with a request still in flight.
    case 2: client.socket.send(JSON.stringify({ type: 'message', id: 'x', payload: { room: rooms[1], content: 'bye' } })); client.socket.terminate(); break
    default: client.socket.close(4000, 'leaving without leave_room')
  }
  await client.closed
  return undefined
}

/** A wave: everyone arrives (all connected at once), then everyone chats and departs. */
async function wave (server: TestApp, first: number, size: number): Promise<string[]> {
  const ns = Array.from({ length: size }, (_, i) => first + i)
  const present = await Promise.all(ns.map((n) => arrive(server, n)))
  const results = await Promise.all(present.map((member, i) => depart(member, ns[i]!)))
  return results.filter((result): result is string => result !== undefined)
}

t.test(`${WAVES * PER_WAVE} connections come and go; afterwards the hub is empty and the heap bounded`, async (t) => {
  const server = await buildApp(t)
  const stats = () => server.app.ws.stats()
  const drained = async (): Promise<void> => { while (stats().connections > 0) await sleep(10) }

  // Warm up (JIT, pools, lazily created structures) before taking the baseline.
  await wave(server, 0, 50)
  await drained()
  const heapBefore = await settledHeap()
  const resourcesBefore = resources()
  const upgradeListeners = server.app.server.listenerCount('upgrade')

  const failures: string[] = []
  let peakConnections = 0
  const watcher = setInterval(() => { peakConnections = Math.max(peakConnections, stats().connections) }, 5)
  const timers = trackTimers()
  for (let w = 0; w < WAVES; w++) failures.push(...await wave(server, 50 + w * PER_WAVE, PER_WAVE))
  await drained()
  timers.stop()
  clearInterval(watcher)
  await drained()

  t.same(failures.slice(0, 5), [], `every life went as planned (${failures.length} failures)`)
  t.ok(peakConnections >= PER_WAVE * 0.9, `up to ${peakConnections} connections at once`)
  const after = stats()
  t.match(after, { connections: 0, users: 0, rooms: 0, framesDropped: 0, adapter: { presenceRooms: 0 } }, 'no connection, user or room left')
  t.same(after.errors, {}, 'no errors along the way')
  t.same(server.app.ws.rooms(), [])
  for (let r = 0; r < ROOMS; r++) t.same(await server.app.ws.members(`r${r}`), [], `nobody left in r${r}`)

  const heapAfter = await settledHeap()
  t.ok(timers.created() >= WAVES * PER_WAVE, `${timers.created()} timers set during the run (one token-expiry timer per connection at least)`)
  t.equal(timers.live(), 0, 'every one of them fired or was cleared')
  t.same(resources(), resourcesBefore, 'no timers or sockets left behind')
  t.equal(server.app.server.listenerCount('upgrade'), upgradeListeners, 'no listeners left behind')
  const growth = heapAfter - heapBefore
  t.ok(growth < HEAP_BOUND, `heap grew ${(growth / 1048576).toFixed(2)} MiB over ${WAVES * PER_WAVE} connections (bound ${HEAP_BOUND / 1048576} MiB)`)
})
