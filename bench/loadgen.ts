/**
 * The load generator: many cheap raw `ws` clients in one process, pinned to its own core. Clients
 * count deliveries by their first bytes; only a sample of them (about 100) reads the send time
 * out of each delivery for latency. Every loop here is bounded in count and time.
 */
import WebSocket from 'ws'
import { createSigner } from 'fast-jwt'
import * as hdr from 'hdr-histogram-js'
import { serve } from './ipc.js'
import { contentFor, nowUs, sentAtUs, wireOf, type VariantName, type Wire } from './wire.js'

export interface ConnectArgs {
  variant: VariantName
  /** ws://127.0.0.1:port of each instance; client i uses instance i mod count (the publisher: 0). */
  bases: string[]
  count: number
  rooms: string[]
  /** Distinct users the clients sign in as (client i is user i mod users). */
  users: number
  secret: string
  concurrency: number
  timeoutMs: number
}

export interface PhaseArgs {
  mode: 'max' | 'rate'
  /** 'first': client 0 publishes to its room; 'all': clients take turns, each to its own room. */
  publishers: 'first' | 'all'
  /** Deliveries one publish makes (members of the room). */
  perMessage: number
  /** max: publishes in flight (sent, not yet fully delivered). */
  window: number
  /** rate: publishes per second. */
  rate: number
  durationMs: number
  frameBytes: number
}

export interface PhaseResult {
  sent: number
  deliveries: number
  expected: number
  elapsedMs: number
  stalls: number
  closed: number
  latency: { count: number, p50Ms: number, p99Ms: number, maxMs: number } | undefined
}

interface Client { ws: WebSocket, room: string }

let wire: Wire
let clients: Client[] = []
let received = 0
let closed = 0
let recording = false
let histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
let onThreshold: () => void = () => {}
let threshold = Infinity

function onDelivery (this: WebSocket, data: Buffer): void {
  if (!wire.isDelivery(data)) {
    const reply = wire.answer(data)
    if (reply !== undefined) this.send(reply)
    return
  }
  if (++received >= threshold) onThreshold()
}

function onSampledDelivery (this: WebSocket, data: Buffer): void {
  if (!wire.isDelivery(data)) {
    const reply = wire.answer(data)
    if (reply !== undefined) this.send(reply)
    return
  }
  if (recording) {
    const at = sentAtUs(data)
    if (at > 0) histogram.recordValue(Math.max(1, nowUs() - at))
  }
  if (++received >= threshold) onThreshold()
}

function connectOne (args: ConnectArgs, index: number, token: string, sampled: boolean): Promise<Client> {
  const room = args.rooms[index % args.rooms.length]!
  const ws = new WebSocket(wire.url(args.bases[index % args.bases.length]!, token), { perMessageDeflate: false, skipUTF8Validation: true })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`client ${index}: setup timed out`)) }, args.timeoutMs)
    const fail = (err: Error): void => { clearTimeout(timer); ws.terminate(); reject(err) }
    ws.on('error', fail)
    ws.on('unexpected-response', (_req, res) => fail(new Error(`client ${index}: HTTP ${res.statusCode ?? '?'}`)))
    ws.on('close', (code) => fail(new Error(`client ${index}: closed ${code} during setup`)))
    ws.on('open', () => { for (const frame of wire.onOpen(room, token)) ws.send(frame) })
    ws.on('message', function setup (data: Buffer) {
      const step = wire.onSetupFrame(data.toString(), room, token)
      for (const frame of step.send) ws.send(frame)
      if (!step.joined) return
      clearTimeout(timer)
      ws.removeAllListeners('message')
      ws.removeAllListeners('close')
      ws.removeAllListeners('error')
      ws.on('error', () => {})
      ws.on('close', () => { closed++ })
      ws.on('message', sampled ? onSampledDelivery : onDelivery)
      resolve({ ws, room })
    })
  })
}

async function connect (args: ConnectArgs): Promise<{ ms: number, errors: number, firstError?: string }> {
  wire = wireOf(args.variant)
  const hour = 3600_000
  const sign = createSigner({ key: args.secret, algorithm: 'HS256', expiresIn: hour })
  const tokens = Array.from({ length: Math.min(args.users, args.count) }, (_, u) => sign({ sub: `user-${u}` }))
  const sampleEvery = Math.max(1, Math.floor(args.count / 100))
  clients = new Array(args.count)
  let next = 0
  let errors = 0
  let firstError: string | undefined
  const started = performance.now()
  // `concurrency` handshakes in flight at a time, until every client has joined (or failed).
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.count) }, async () => {
    while (next < args.count) {
      const index = next++
      try {
        clients[index] = await connectOne(args, index, tokens[index % tokens.length]!, index % sampleEvery === 0)
      } catch (err) {
        errors++
        firstError ??= (err as Error).message
      }
    }
  }))
  const ms = performance.now() - started
  if (errors > 0) clients = clients.filter((client) => client !== undefined)
  return firstError === undefined ? { ms, errors } : { ms, errors, firstError }
}

async function phase (args: PhaseArgs): Promise<PhaseResult> {
  const content = contentFor(args.frameBytes)
  const base = received
  const closedBefore = closed
  const perMessage = args.perMessage
  let sent = 0
  let forgiven = 0
  let stalls = 0
  let running = true
  histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 })
  recording = args.mode === 'rate'

  const publish = (): void => {
    const client = args.publishers === 'first' ? clients[0]! : clients[sent % clients.length]!
    client.ws.send(wire.publish(client.room, content(nowUs())))
    sent++
  }
  const started = performance.now()
  let lastProgress = started
  let lastReceived = received
  const timers: NodeJS.Timeout[] = []

  if (args.mode === 'max') {
    // Closed loop: keep `window` publishes in flight; a publish is done when its deliveries are counted.
    const pump = (): void => {
      while (running && sent - forgiven - Math.floor((received - base) / perMessage) < args.window) publish()
      threshold = base + (sent - forgiven - args.window + 1) * perMessage
    }
    onThreshold = pump
    pump()
    // A delivery that never comes (dropped by flow control) must not stall the loop forever.
    timers.push(setInterval(() => {
      const now = performance.now()
      if (received !== lastReceived) { lastReceived = received; lastProgress = now; return }
      if (running && now - lastProgress > 1000) {
        stalls++
        forgiven = sent - Math.floor((received - base) / perMessage)
        lastProgress = now
        pump()
      }
    }, 100))
  } else {
    onThreshold = () => {}
    threshold = Infinity
    timers.push(setInterval(() => {
      const due = Math.floor((performance.now() - started) * args.rate / 1000)
      for (let i = 0; running && sent < due && i < 10_000; i++) publish()
    }, 1))
  }

  await new Promise((resolve) => setTimeout(resolve, args.durationMs))
  running = false
  threshold = Infinity
  for (const timer of timers) clearInterval(timer)
  // Drain: wait (bounded) until every publish is fully delivered.
  const expected = sent * perMessage
  let lastDelivery = performance.now()
  let seen = received
  const drainDeadline = performance.now() + 10_000
  while (received - base < expected && performance.now() < drainDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    if (received !== seen) { seen = received; lastDelivery = performance.now() }
    if (performance.now() - lastDelivery > 2000) break
  }
  const elapsedMs = (received - base >= expected ? performance.now() : lastDelivery) - started
  recording = false
  return {
    sent,
    deliveries: received - base,
    expected,
    elapsedMs,
    stalls,
    closed: closed - closedBefore,
    latency: args.mode === 'rate' && histogram.totalCount > 0
      ? {
          count: histogram.totalCount,
          p50Ms: histogram.getValueAtPercentile(50) / 1000,
          p99Ms: histogram.getValueAtPercentile(99) / 1000,
          maxMs: histogram.maxValue / 1000,
        }
      : undefined,
  }
}

/** Leave storm: every client closes (normal close handshake) at once. */
function leave (): { closing: number } {
  const closing = clients.length
  for (const client of clients) {
    client.ws.removeAllListeners('close')
    client.ws.on('close', () => {})
    client.ws.close(1000)
  }
  clients = []
  return { closing }
}

serve({ connect, phase, leave }, async () => {
  for (const client of clients) client.ws.terminate()
  clients = []
})
