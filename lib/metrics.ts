/**
 * Prometheus metrics (the opt-in `metrics` option): a scrape route in the text exposition format,
 * through prom-client, an optional peer dependency loaded only when metrics are on. Every figure is
 * read from one `stats()` snapshot per scrape, so the delivery path does no counting of its own
 * for them and a scrape agrees with `stats()`. Adapter command latency is timed per call (a
 * publish, a presence change: never per recipient). Node's default metrics (event-loop lag, GC,
 * memory, CPU) come from prom-client's `collectDefaultMetrics`.
 */
import type { FastifyInstance, FastifySchema } from 'fastify'
import type { Adapter } from './adapter.js'
import { WsRegistrationError } from './errors.js'
import { timeAdapter } from './timed-adapter.js'
import type { WsStats } from './types.js'

type PromClient = typeof import('prom-client')

export interface Metrics {
  /** The adapter, with each command's latency observed (`ws_adapter_command_duration_seconds`). */
  timeAdapter(adapter: Adapter): Adapter
  /** Serve the registry at `path` (GET), reading `stats` at each scrape. */
  install(app: FastifyInstance, path: string, stats: () => WsStats): void
}

const HIDDEN = { hide: true } as FastifySchema

async function loadPromClient (): Promise<PromClient> {
  try {
    return await import('prom-client')
  } catch (err) {
    throw new WsRegistrationError('WS_ERR_METRICS_UNAVAILABLE',
      `Option "metrics" needs the optional peer dependency prom-client (npm install prom-client): ${(err as Error).message}`)
  }
}

export async function createMetrics (): Promise<Metrics> {
  const prom = await loadPromClient()
  const registry = new prom.Registry()
  let current: WsStats | undefined
  const registers = [registry]

  const gauge = (name: string, help: string, read: (s: WsStats) => number): void => {
    new prom.Gauge({ name, help, registers, collect () { if (current !== undefined) this.set(read(current)) } })
  }
  const counter = (name: string, help: string, read: (s: WsStats) => number): void => {
    new prom.Counter({ name, help, registers, collect () { if (current !== undefined) { this.reset(); this.inc(read(current)) } } })
  }
  const labelled = (name: string, help: string, label: string, read: (s: WsStats) => Record<string, number | undefined>): void => {
    new prom.Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect () {
        if (current === undefined) return
        this.reset()
        for (const [value, count] of Object.entries(read(current))) if (count !== undefined) this.inc({ [label]: value }, count)
      },
    })
  }

  gauge('ws_connections', 'Open WebSocket connections on this instance.', (s) => s.connections)
  gauge('ws_users', 'Distinct users among the open connections.', (s) => s.users)
  gauge('ws_rooms', 'Rooms with at least one local member.', (s) => s.rooms)
  counter('ws_frames_in_total', 'Frames received, refused ones included.', (s) => s.messagesIn)
  labelled('ws_messages_in_total', 'Valid frames of declared client message types, by type.', 'type', (s) => s.messagesInByType)
  counter('ws_frames_out_total', 'Frames written, one per recipient.', (s) => s.messagesOut)
  labelled('ws_messages_out_total', 'Frames written, by server message type.', 'type', (s) => s.messagesOutByType)
  counter('ws_frames_dropped_total', 'Room and user deliveries dropped by flow control (reader over highWaterMark).', (s) => s.framesDropped)
  counter('ws_slow_consumer_closes_total', 'Connections closed with 1013 for staying over highWaterMark.', (s) => s.slowConsumerCloses)
  labelled('ws_errors_total', 'error frames sent, by code.', 'code', (s) => s.errors)
  labelled('ws_recoveries_total', 'Joins with since: recovered (history held every missed message) or not.', 'outcome',
    (s) => ({ recovered: s.recoveries.recovered, not_recovered: s.recoveries.notRecovered }))
  gauge('ws_adapter_up', '1 while the adapter reaches its backend (always 1 in memory).', (s) => s.adapter?.connected === false ? 0 : 1)
  counter('ws_adapter_outages_total', 'Times the adapter lost its backend.', (s) => typeof s.adapter?.outages === 'number' ? s.adapter.outages : 0)
  const latency = new prom.Histogram({
    name: 'ws_adapter_command_duration_seconds',
    help: 'Adapter commands that wait for their backend (publishes, presence, history), by command.',
    labelNames: ['command'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers,
  })
  prom.collectDefaultMetrics({ register: registry })

  return {
    timeAdapter: (adapter) => timeAdapter(adapter, (command, seconds) => latency.observe({ command }, seconds)),
    install (app, path, stats) {
      app.get(path, { schema: HIDDEN }, async (_request, reply) => {
        current = stats()
        const text = await registry.metrics()
        return await reply.type(registry.contentType).send(text)
      })
    },
  }
}
