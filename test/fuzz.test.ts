/**
 * Fuzz: hostile frames from several clients while a well-behaved pair chats.
 * Seeded: a failure prints its seed; rerun with FUZZ_SEED=<seed> to reproduce it.
 */
import t from 'tap'
import { chatProtocol } from '../examples/chat/protocol.js'
import { buildApp, connect, joined, type TestApp, type TestClient } from './helpers/index.js'

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed)
const FUZZERS = 4
const FRAMES_PER_FUZZER = 2600
const WINDOW = 40
const MAX_PAYLOAD = 16 * 1024
/** An error frame echoes some client input; it stays small whatever the input (no amplification). */
const MAX_REPLY_BYTES = 6 * 1024
const PAIR_ROOM = 'pair-room'

/** mulberry32: small, fast, good enough to reproduce a run from its seed. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * What a fuzz frame must produce: `id` frames exactly one frame with that id (an error or the
 * declared reply); `error` frames exactly one `error` without id; `close` frames a close with one
 * of the documented codes.
 */
type Expectation = { kind: 'id', id: string } | { kind: 'error' } | { kind: 'close', codes: number[] }
interface FuzzFrame { data: string | Buffer, binary: boolean, expect: Expectation, category: string }

function generator (random: () => number) {
  const int = (n: number): number => Math.floor(random() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
  let counter = 0

  function randomString (max: number): string {
    const length = int(max)
    let out = ''
    for (let i = 0; i < length; i++) {
      const r = random()
      out += r < 0.7 ? String.fromCharCode(32 + int(95)) : r < 0.9 ? String.fromCharCode(0x80 + int(0x700)) : pick(['"', '\\', '{', '}', '\u0000', '😀', '\n'])
    }
    return out
  }

  function deep (depth: number): string {
    const open = random() < 0.5 ? '[' : '{"a":'
    const close = open === '[' ? ']' : '}'
    return open.repeat(depth) + '1' + close.repeat(depth)
  }

  /** Hostile JSON values: wrong types, huge numbers and strings, deep nesting, prototype keys. */
  function hostileValue (): string {
    switch (int(10)) {
      case 0: return pick(['1e400', '-1e400', '1e308', '-0', '123456789012345678901234567890', '0.1', '-1', '9007199254740993'])
      case 1: return JSON.stringify('s'.repeat(int(MAX_PAYLOAD - 200)))
      case 2: return deep(1 + int(3000))
      case 3: return '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'
      case 4: return pick(['null', 'true', 'false', '[]', '{}', '""'])
      case 5: return JSON.stringify(randomString(64))
      case 6: return '{"toString":1,"valueOf":null,"hasOwnProperty":"x"}'
      case 7: return `[${Array.from({ length: int(500) }, () => int(10)).join(',')}]`
      case 8: return JSON.stringify({ ['k'.repeat(int(4000))]: 1 })
      default: return String(int(1000))
    }
  }

  const templates: Record<string, Record<string, string>> = {
    join_room: { room: '"f-room"', since: '0' },
    leave_room: { room: '"f-room"' },
    message: { room: '"f-room"', content: '"hi"' },
    typing: { room: '"f-room"' },
    ping: {},
    refresh_token: { token: '"x.y.z"' },
    react: { room: '"f-room"', seq: '1', emoji: '"👍"' },
    get_room_stats: { room: '"f-room"' },
  }

  /** A known message type with a fresh valid id and a mutated payload or envelope. */
  function mutated (): FuzzFrame {
    const id = `z${++counter}`
    let type = JSON.stringify(pick(Object.keys(templates)))
    const fields = { ...templates[JSON.parse(type) as string] }
    const names = Object.keys(fields)
    let envelopeExtra = ''
    let payload: string | undefined
    switch (int(7)) {
      case 0: if (names.length > 0) fields[pick(names)] = hostileValue(); break
      case 1: fields[pick(['__proto__', 'constructor', 'prototype', 'extra', randomString(20)])] = hostileValue(); break
      case 2: if (names.length > 0) delete fields[pick(names)]; else fields.x = '1'; break
      case 3: payload = hostileValue(); break
      case 4: type = pick([hostileValue(), JSON.stringify(randomString(100)), '"__proto__"', '"constructor"', '"toString"']); break
      case 5: envelopeExtra = `,${JSON.stringify(pick(['__proto__', 'constructor', 'extra', randomString(10)]))}:${hostileValue()}`; break
      default: for (const name of names) fields[name] = hostileValue()
    }
    if (payload === undefined) payload = '{' + Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}'
    return { data: `{"type":${type},"id":"${id}","payload":${payload}${envelopeExtra}}`, binary: false, expect: { kind: 'id', id }, category: 'mutated' }
  }

  /** Frames that can never be valid (so they must all get an `error`, and no id can be read). */
  function invalid (): FuzzFrame {
    switch (int(7)) {
      case 0: {
        let text = randomString(300)
        while (isObject(text)) text = randomString(300)
        return { data: text, binary: false, expect: { kind: 'error' }, category: 'random text' }
      }
      case 1: return { data: Buffer.from(Array.from({ length: int(400) }, () => int(256))), binary: true, expect: { kind: 'error' }, category: 'binary' }
      case 2: return { data: deep(1 + int(5000)).replace(/^\{"a":/, '[').replace(/\}$/, ']'), binary: false, expect: { kind: 'error' }, category: 'deep array' }
      case 3: return { data: pick(['null', '1', '"x"', '[]', 'true', '{', '}', '{"type":', '', ' ', '{"type":"ping"}x']), binary: false, expect: { kind: 'error' }, category: 'not an object' }
      case 4: return { data: `{"type":"ping","id":${pick(['1', 'null', '""', '[]', '{}', JSON.stringify('i'.repeat(65))])}}`, binary: false, expect: { kind: 'error' }, category: 'bad id' }
      case 5: return { data: `{"id":"${randomString(10).replace(/["\\]/g, '')}"`, binary: false, expect: { kind: 'error' }, category: 'truncated' }
      default: return { data: JSON.stringify(JSON.stringify({ type: 'ping', id: 'x' })), binary: false, expect: { kind: 'error' }, category: 'double encoded' }
    }
  }

  /** Frames the WebSocket layer refuses by closing: invalid UTF-8 (1007), too big (1009). */
  function closing (): FuzzFrame {
    if (random() < 0.5) {
      const bytes = Buffer.from(`{"type":"ping","id":"bad-utf8","payload":{"x":"..."}}`)
      bytes[bytes.length - 6] = pick([0xff, 0xc0, 0xed, 0x80])
      return { data: bytes, binary: false, expect: { kind: 'close', codes: [1007] }, category: 'invalid utf-8' }
    }
    return { data: 'x'.repeat(MAX_PAYLOAD + 1 + int(1000)), binary: random() < 0.5, expect: { kind: 'close', codes: [1009] }, category: 'too big' }
  }

  return (): FuzzFrame => {
    const r = random()
    const frame = r < 0.55 ? mutated() : r < 0.99 ? invalid() : closing()
    // Hostile values can push any frame over the limit: then it is a 1009 close, not an error.
    if (frame.expect.kind !== 'close' && Buffer.byteLength(frame.data) > MAX_PAYLOAD) {
      return { ...frame, expect: { kind: 'close', codes: [1009] }, category: `${frame.category} (too big)` }
    }
    return frame
  }
}

function isObject (text: string): boolean {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

interface FuzzReport { sent: number, replies: number, closes: Record<number, number>, categories: Record<string, number>, problems: string[], largestReply: number }

async function fuzzClient (t: Tap, server: TestApp, user: string, seed: number): Promise<FuzzReport> {
  const next = generator(prng(seed))
  const report: FuzzReport = { sent: 0, replies: 0, closes: {}, categories: {}, problems: [], largestReply: 0 }
  let client = await connectFuzzer(t, server, user, report)
  let batch: FuzzFrame[] = []

  async function settle (): Promise<void> {
    for (const frame of batch) {
      const reply = frame.expect.kind === 'id'
        ? await take(client, (f) => f.id === (frame.expect as { id: string }).id)
        : await take(client, (f) => f.type === 'error' && f.id === undefined)
      if (reply === undefined) {
        report.problems.push(`no reply to ${frame.category} frame ${String(frame.data).slice(0, 80)}${client.isOpen ? "" : " (closed: " + JSON.stringify(await client.closed) + ")"}`)
        if (!client.isOpen) break
        continue
      }
      report.replies++
      if (frame.expect.kind === 'error' && reply.payload.code !== 'invalid_frame' && reply.payload.code !== 'invalid_message') {
        report.problems.push(`${frame.category} got ${reply.payload.code}`)
      }
    }
    batch = []
  }

  while (report.sent < FRAMES_PER_FUZZER) {
    const frame = next()
    report.categories[frame.category] = (report.categories[frame.category] ?? 0) + 1
    if (frame.expect.kind === 'close') {
      await settle()
      client.sendRaw(frame.data, { binary: frame.binary })
      report.sent++
      const { code } = await client.closed
      report.closes[code] = (report.closes[code] ?? 0) + 1
      if (!frame.expect.codes.includes(code)) report.problems.push(`${frame.category} closed with ${code}`)
      client = await connectFuzzer(t, server, user, report)
      continue
    }
    client.sendRaw(frame.data, { binary: frame.binary })
    report.sent++
    batch.push(frame)
    if (batch.length === WINDOW) await settle()
  }
  await settle()
  if (!client.isOpen) report.problems.push(`closed unexpectedly: ${JSON.stringify(await client.closed)}`)
  await client.close()
  return report
}

async function connectFuzzer (t: Tap, server: TestApp, user: string, report: FuzzReport): Promise<TestClient> {
  const client = await connect(t, server, user)
  client.socket.on('message', (data: Buffer) => { report.largestReply = Math.max(report.largestReply, data.length) })
  return client
}

async function take (client: TestClient, match: (frame: { type: string, id?: string, payload: any }) => boolean): Promise<{ type: string, id?: string, payload: any } | undefined> {
  try {
    return await client.waitFor(match, 5000)
  } catch {
    return undefined
  }
}

type Tap = { teardown(fn: () => unknown): void }

t.test(`${FUZZERS} clients send ${FUZZERS * FRAMES_PER_FUZZER} hostile frames (seed ${SEED}) while a pair chats undisturbed`, async (t) => {
  const server = await buildApp(t, { protocol: chatProtocol, maxPayload: MAX_PAYLOAD, rateLimit: false })
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  await joined(alice, PAIR_ROOM)
  await joined(bob, PAIR_ROOM)

  let fuzzing = true
  const fuzzers = Promise.all(Array.from({ length: FUZZERS }, (_, i) => fuzzClient(t, server, `fuzzer${i}`, SEED + i)))
    .finally(() => { fuzzing = false })

  // The pair alternates messages until the fuzzers are done; each is acknowledged.
  const sent: string[] = []
  while (fuzzing || sent.length < 100) {
    const from = sent.length % 2 === 0 ? alice : bob
    const content = `m${sent.length}`
    sent.push(content)
    const ack = await from.request('message', { room: PAIR_ROOM, content }, 5000)
    if (ack.type !== 'ack') t.fail(`pair message ${content} got ${JSON.stringify(ack)}`)
  }
  const reports = await fuzzers

  for (const client of [alice, bob]) {
    // The sender's ack can overtake the other member's copy of the last message.
    await client.waitFor((frame) => frame.type === 'message' && frame.payload.content === sent.at(-1), 5000)
      .then((frame) => client.frames.push(frame))
    const seen = client.pending('message').map((frame) => frame.payload.content as string)
    t.same(seen, sent, `${client === alice ? 'alice' : 'bob'} saw all ${sent.length} pair messages, in order`)
    t.same(client.pending('error'), [], 'and no error')
  }

  let total = 0
  for (const [i, report] of reports.entries()) {
    total += report.sent
    t.same(report.problems, [], `fuzzer${i}: every frame got its error or a documented close`)
    const closes = Object.values(report.closes).reduce((a, b) => a + b, 0)
    t.equal(report.replies + closes, report.sent, `fuzzer${i}: ${report.sent} frames → ${report.replies} replies + ${closes} closes ${JSON.stringify(report.closes)}`)
    t.ok(report.largestReply <= MAX_REPLY_BYTES, `fuzzer${i}: largest reply ${report.largestReply} B`)
    t.comment(`fuzzer${i} categories: ${JSON.stringify(report.categories)}`)
  }
  t.ok(total >= 10_000, `${total} frames in all`)

  // Still serving, and nothing of the fuzzers is left behind.
  const late = await connect(t, server, 'late')
  t.equal((await late.request('ping')).type, 'pong')
  t.ok(({} as Record<string, unknown>).polluted === undefined, 'no prototype pollution')
  const stats = server.app.ws.stats()
  t.comment(`stats: ${JSON.stringify(stats)}`)
  t.ok(stats.connections <= 3 + FUZZERS, `connections: ${stats.connections}`)
})
