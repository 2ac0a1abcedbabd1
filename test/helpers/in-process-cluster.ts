/**
 * A cluster engine in one process, to prove the adapter seam: several `ClusterAdapter`s ("instances")
 * share a pub/sub bus, a presence store and a history store, with no Redis. The bus delivers in
 * publish order to every subscriber of a channel; `crash` cuts one instance off as a dead process
 * would be (no heartbeat, no cleanup, nothing received).
 */
import { ClusterAdapter, type ClusterBackend, type ClusterEvents, type Transport } from '../../plugin.js'
import { MemoryHistory, MemoryPresence } from '../../lib/adapters/memory-stores.js'

export interface InProcessOptions {
  historySize?: number
  historyTtlMs?: number
  heartbeatIntervalMs?: number
  instanceTimeoutMs?: number
  /** Pub/sub runs this far behind the stores (ms): a frame is in history before any instance receives it. */
  deliveryDelayMs?: number
}

export class InProcessCluster {
  readonly presence = new MemoryPresence()
  readonly history: MemoryHistory
  private readonly channels = new Map<string, Set<InProcessBackend>>()
  private readonly backends = new Map<ClusterAdapter, InProcessBackend>()

  constructor (private readonly options: InProcessOptions = {}) {
    this.history = new MemoryHistory(
      { historySize: options.historySize ?? 1000, historyTtlMs: options.historyTtlMs ?? 300_000 },
      (channel, payload) => this.publish(channel, payload),
    )
  }

  /** A new instance of this cluster. */
  adapter (): ClusterAdapter {
    const backend = new InProcessBackend(this)
    const adapter = new ClusterAdapter(backend, {
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 100,
      instanceTimeoutMs: this.options.instanceTimeoutMs ?? 500,
      closeTimeoutMs: 500,
    })
    this.backends.set(adapter, backend)
    return adapter
  }

  /** The instance dies: it stops beating and receiving, and cleans nothing up. */
  crash (adapter: ClusterAdapter): void {
    this.backends.get(adapter)?.cut()
  }

  /** The instance's link drops: commands fail, nothing is received (until `subscriberBack`/`commandsBack`). */
  cutLink (adapter: ClusterAdapter): void {
    this.backends.get(adapter)?.cut()
  }

  /** Its subscriber reconnects first: channels are live again while commands still fail. */
  subscriberBack (adapter: ClusterAdapter): void {
    this.backends.get(adapter)?.subscriberBack()
  }

  /** Its command connection is back too: the backend is up. */
  commandsBack (adapter: ClusterAdapter): void {
    this.backends.get(adapter)?.commandsBack()
  }

  publish (channel: string, payload: string): void {
    const subscribers = this.channels.get(channel)
    if (subscribers === undefined) return
    const bytes = Buffer.from(payload)
    const delay = this.options.deliveryDelayMs ?? 0
    if (delay > 0) {
      setTimeout(() => { for (const backend of this.channels.get(channel) ?? []) backend.receive(channel, bytes) }, delay)
      return
    }
    for (const backend of subscribers) backend.receive(channel, bytes)
  }

  join (channel: string, backend: InProcessBackend): void {
    let subscribers = this.channels.get(channel)
    if (subscribers === undefined) this.channels.set(channel, subscribers = new Set())
    subscribers.add(backend)
  }

  leave (channel: string, backend: InProcessBackend): void {
    const subscribers = this.channels.get(channel)
    subscribers?.delete(backend)
    if (subscribers?.size === 0) this.channels.delete(channel)
  }
}

class InProcessBackend implements ClusterBackend {
  readonly name = 'in-process'
  readonly label = 'The in-process bus'
  readonly ordersPublishes = true
  readonly presence: MemoryPresence
  readonly history: MemoryHistory
  readonly transport: Transport
  available = true
  private subscriberUp = true
  private events: ClusterEvents | undefined
  private readonly subscribed = new Set<string>()

  constructor (private readonly bus: InProcessCluster) {
    this.presence = bus.presence
    this.history = bus.history
    this.transport = {
      roomChannel: (room) => `room:${room}`,
      userChannel: (userId) => `user:${userId}`,
      publish: (channel, payload) => {
        if (!this.available) throw new Error('cut off')
        bus.publish(channel, payload)
      },
      subscribe: (channels) => {
        if (!this.subscriberUp) return
        for (const channel of channels) {
          this.subscribed.add(channel)
          bus.join(channel, this)
        }
      },
      unsubscribe: (channel) => {
        this.subscribed.delete(channel)
        bus.leave(channel, this)
      },
    }
  }

  async connect (_instanceId: string, events: ClusterEvents): Promise<void> {
    this.events = events
  }

  async close (): Promise<void> {
    for (const channel of this.subscribed) this.bus.leave(channel, this)
    this.subscribed.clear()
  }

  receive (channel: string, payload: Buffer): void {
    this.events?.message(channel, payload)
  }

  subscriberBack (): void {
    this.subscriberUp = true
    this.events?.subscriberReady()
  }

  commandsBack (): void {
    this.available = true
    this.events?.up()
  }

  cut (): void {
    this.available = false
    this.subscriberUp = false
    for (const channel of this.subscribed) this.bus.leave(channel, this)
    this.events?.down()
  }
}

