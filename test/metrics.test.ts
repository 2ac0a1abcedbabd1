import t from 'tap'
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format'
import { buildApp, connect, joined, tokenFor, until, type TestApp } from './helpers/index.js'
import { useRedis } from './helpers/redis.js'

interface Scrape { families: Map<string, MetricFamily>, text: string, contentType: string }

/** GET the scrape route and parse it with a Prometheus text-format parser. */
async function scrape (server: TestApp, path = '/metrics'): Promise<Scrape> {
  const response = await server.app.inject({ method: 'GET', url: path })
  if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode}`)
  const families = new Map(parsePrometheusTextFormat(response.body).map((family) => [family.name, family]))
  return { families, text: response.body, contentType: String(response.headers['content-type']) }
}

/** The sample's value, for a family without labels or the one whose label `key` is `value`. */
function valueOf (families: Map<string, MetricFamily>, name: string, label?: [string, string]): number | undefined {
  const family = families.get(name)
  const sample = family?.metrics.find((m) => label === undefined || m.labels?.[label[0]] === label[1])
  return sample?.value === undefined ? undefined : Number(sample.value)
}

/** A labelled counter family as { labelValue: count }. */
function byLabel (families: Map<string, MetricFamily>, name: string, key: string): Record<string, number> {
  return Object.fromEntries((families.get(name)?.metrics ?? []).map((m) => [m.labels?.[key] ?? '', Number(m.value)]))
}

t.test('metrics are off unless asked for', async (t) => {
  const server = await buildApp(t)
  t.equal((await server.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
})

t.test('a scrape parses as Prometheus text and agrees with stats()', async (t) => {
  const server = await buildApp(t, { metrics: true })
  const alice = await connect(t, server, 'alice')
  const bob = await connect(t, server, 'bob')
  await joined(alice, 'general')
  await joined(bob, 'general')
  await alice.request('message', { room: 'general', content: 'one' })
  await bob.waitFor('message')
  await alice.request('message', { room: 'general', content: 'two' })
  await bob.waitFor('message')
  alice.sendRaw('not json')
  await alice.waitFor('error')
  await alice.request('typing', { room: 'nowhere' })
  const late = await connect(t, server, 'carol')
  await late.request('join_room', { room: 'general', since: 0 })
  await until(() => server.app.ws.stats().recoveries.recovered === 1, 'the recovery is counted')

  const { families, contentType } = await scrape(server)
  const stats = server.app.ws.stats()
  t.match(contentType, /^text\/plain; version=0\.0\.4/, 'the text exposition format')
  t.equal(families.get('ws_connections')?.type, 'GAUGE')
  t.equal(valueOf(families, 'ws_connections'), stats.connections)
  t.equal(stats.connections, 3)
  t.equal(valueOf(families, 'ws_users'), stats.users)
  t.equal(valueOf(families, 'ws_rooms'), stats.rooms)
  t.equal(families.get('ws_frames_in_total')?.type, 'COUNTER')
  t.equal(valueOf(families, 'ws_frames_in_total'), stats.messagesIn)
  t.equal(valueOf(families, 'ws_frames_out_total'), stats.messagesOut)
  t.same(byLabel(families, 'ws_messages_in_total', 'type'), stats.messagesInByType)
  t.same(stats.messagesInByType, { join_room: 3, message: 2, typing: 1 }, 'valid frames by type; the refused typing is counted, the invalid frame is not')
  const outByType = byLabel(families, 'ws_messages_out_total', 'type')
  t.same(outByType, stats.messagesOutByType)
  t.equal(Object.values(outByType).reduce((a, b) => a + b, 0), stats.messagesOut, 'frames by type add up to every frame written')
  t.equal(outByType.message, 2 * 2 + 2, 'two messages to two members, then both replayed to the recovering joiner')
  t.same(byLabel(families, 'ws_errors_total', 'code'), stats.errors)
  t.same(stats.errors, { invalid_frame: 1, not_in_room: 1 })
  t.same(byLabel(families, 'ws_recoveries_total', 'outcome'), { recovered: 1, not_recovered: 0 })
  t.equal(valueOf(families, 'ws_frames_dropped_total'), 0)
  t.equal(valueOf(families, 'ws_slow_consumer_closes_total'), 0)
  t.equal(valueOf(families, 'ws_adapter_up'), 1)
  t.equal(valueOf(families, 'ws_adapter_outages_total'), 0)
  t.ok(families.has('nodejs_eventloop_lag_seconds'), 'event-loop lag (prom-client default metrics)')
  t.equal(families.get('ws_adapter_command_duration_seconds')?.type, 'HISTOGRAM')
})

t.test('the scrape route can move', async (t) => {
  const server = await buildApp(t, { metrics: { path: '/internal/metrics' } })
  const { families } = await scrape(server, '/internal/metrics')
  t.equal(valueOf(families, 'ws_connections'), 0)
  t.equal((await server.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
})

t.test('a bad metrics option fails at registration', async (t) => {
  await t.rejects(buildApp(t, { metrics: { path: 'metrics' } }), { code: 'WS_ERR_INVALID_OPTION', message: /metrics\.path/ })
})

const redis = await useRedis(t)
if (redis !== undefined) {
  t.test('on Redis, adapter commands are timed and the adapter reports up', async (t) => {
    const server = await buildApp(t, { metrics: true, adapter: redis.adapter({ keyPrefix: `${redis.prefix}metrics:` }) })
    const alice = await connect(t, server, 'alice')
    await joined(alice, 'general')
    await alice.request('message', { room: 'general', content: 'timed' })
    const { families, text } = await scrape(server)
    t.equal(families.get('ws_adapter_command_duration_seconds')?.type, 'HISTOGRAM')
    // The parser merges labelled histogram series (prom-client writes `le` first): read the counts from the text.
    const count = (command: string): number => Number(new RegExp(`^ws_adapter_command_duration_seconds_count\\{command="${command}"\\} (\\d+)$`, 'm').exec(text)?.[1])
    t.equal(count('publishToRoom'), 1, 'each publish observed once')
    t.equal(count('addMember'), 1, 'presence commands too')
    t.equal(valueOf(families, 'ws_adapter_up'), 1)
    t.equal(valueOf(families, 'ws_adapter_outages_total'), server.app.ws.stats().adapter?.outages)
  })
}

t.test('with metrics on, the adapter keeps every capability: epochs, recovery by epoch and history paging', async (t) => {
  const server = await buildApp(t, { metrics: true, history: true })
  const alice = await connect(t, server, 'alice')
  const first = await joined(alice, 'kept')
  t.type(first.payload.epoch, 'string', 'room_joined carries the epoch (the adapter\'s position is reached)')
  for (const content of ['one', 'two', 'three']) await alice.request('message', { room: 'kept', content })
  const bob = await connect(t, server, 'bob')
  const stale = await bob.request('join_room', { room: 'kept', since: 1, epoch: 'another-numbering' })
  t.equal(stale.payload.recovered, false, 'a since counted in another epoch is not replayed')
  const page = await server.app.inject({ method: 'GET', url: '/rooms/kept/history?limit=2', headers: { authorization: `Bearer ${tokenFor('alice')}` } })
  t.same(page.json().messages.map((m: { seq: number }) => m.seq), [2, 3], 'the history route pages the adapter\'s history')
})
