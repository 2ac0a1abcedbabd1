/**
 * Outage bookkeeping of a cluster adapter: when the backend went away and came back, the last
 * error, how often the adapter fell back to local delivery. Logs each transition once and errors
 * at most every 10 s (clients report every failed reconnect attempt).
 */
import { WsError } from '../errors.js'
import type { AdapterHost } from '../adapter.js'

const ERROR_LOG_INTERVAL_MS = 10_000

export class ClusterHealth {
  outageSince: number | undefined
  outages = 0
  lastError: string | undefined
  /** Calls answered locally because the backend was unreachable. */
  fallbacks = 0
  /** Set by `close()`: from then on nothing is logged as an outage. */
  closing = false
  log: AdapterHost['log'] | undefined
  private errorLoggedAt = 0
  /** Waiting for the backend to take commands again (`whenUp`). */
  private waiting: Array<(up: boolean) => void> = []

  /** `label` names the backend in messages ('Redis'); `context` goes with them (e.g. its URL). */
  constructor (private readonly label: string, private readonly context: object) {}

  get connected (): boolean {
    return this.outageSince === undefined
  }

  down (): void {
    if (this.closing || this.outageSince !== undefined) return
    this.outageSince = Date.now()
    this.outages++
    this.log?.warn(this.context, `${this.label} connection lost: serving local clients only; durable messages are refused until it returns`)
  }

  /** Resolves true once `available()` holds (now, or after an `up`), false once closing. */
  async whenUp (available: () => boolean): Promise<boolean> {
    while (!this.closing && !available()) {
      if (!await new Promise<boolean>((resolve) => this.waiting.push(resolve))) return false
    }
    return !this.closing
  }

  /** From now on nothing is logged as an outage, and nothing waits for the backend. */
  close (): void {
    this.closing = true
    this.wake(false)
  }

  /** True when this ends an outage (the caller then resynchronises). */
  up (): boolean {
    if (this.outageSince === undefined) return false
    this.log?.info({ outageMs: Date.now() - this.outageSince }, `${this.label} connection restored: resynchronising presence`)
    this.outageSince = undefined
    this.errorLoggedAt = 0
    return true
  }

  /** Let `whenUp` callers look again (`up`: the backend may take commands), or stop them (false). */
  wake (up: boolean): void {
    const waiting = this.waiting
    this.waiting = []
    for (const resolve of waiting) resolve(up)
  }

  error (err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err)
    const now = Date.now()
    if (now - this.errorLoggedAt < ERROR_LOG_INTERVAL_MS || this.closing) return
    this.errorLoggedAt = now
    this.log?.warn({ err }, `${this.label} error`)
  }

  stats (): Record<string, unknown> {
    return {
      connected: this.connected,
      outageSince: this.outageSince === undefined ? undefined : new Date(this.outageSince).toISOString(),
      outages: this.outages,
      lastError: this.lastError,
      localFallbacks: this.fallbacks,
    }
  }
}

/** `unavailable`: a command that timed out may still have run, so only a retry with the same idempotency key is safe from duplicates. */
export function unavailable (label: string, what?: string): WsError {
  return new WsError('unavailable', what === undefined
    ? `${label} is unreachable or did not answer in time: the durable message was not confirmed; retry later`
    : `${label} is unreachable: ${what} right now; retry later`)
}
