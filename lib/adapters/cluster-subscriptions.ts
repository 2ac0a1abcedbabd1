/**
 * The channels a cluster adapter wants to receive (one per room and per user with a local member
 * or connection), and their subscription on the transport: once per channel however many local
 * members, again in full after every subscriber (re)connection.
 */
import type { Transport } from './cluster-roles.js'

export interface Subscription {
  readonly kind: 'room' | 'user'
  readonly name: string
  /** Settles once the transport subscribed (or failed: it subscribes again on `subscriberReady`). */
  readonly ready: Promise<void>
}

export class Subscriptions {
  /** channel → what it carries. */
  private readonly byChannel = new Map<string, Subscription>()

  constructor (private readonly transport: Transport, private readonly error: (err: unknown) => void) {}

  get size (): number {
    return this.byChannel.size
  }

  get (channel: string): Subscription | undefined {
    return this.byChannel.get(channel)
  }

  /** Want `channel`; settles once it is live (a failure is reported, and retried on `resubscribe`). */
  add (channel: string, kind: Subscription['kind'], name: string): Promise<void> {
    let subscription = this.byChannel.get(channel)
    if (subscription === undefined) {
      const ready = settle(() => this.transport.subscribe([channel])).catch((err: unknown) => this.error(err))
      subscription = { kind, name, ready }
      this.byChannel.set(channel, subscription)
    }
    return subscription.ready
  }

  remove (channel: string): void {
    if (!this.byChannel.delete(channel)) return
    settle(() => this.transport.unsubscribe(channel)).catch((err: unknown) => this.error(err))
  }

  /** Subscribe to every wanted channel again (the subscriber reconnected). */
  resubscribe (): Promise<void> {
    return settle(() => this.transport.subscribe([...this.byChannel.keys()]))
  }
}

/** Run a role call that may answer synchronously, throw, or return a promise, as a promise. */
async function settle (run: () => unknown): Promise<void> {
  await run()
}
