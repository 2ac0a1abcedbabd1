/**
 * Outage bookkeeping of a cluster adapter: when the backend went away and came back, the last
 * error, how often the adapter fell back to local delivery. Logs each transition once and errors
 * at most every 10 s (clients report every failed reconnect attempt).
 */
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

  /** True when this ends an outage (the caller then resynchronises). */
  up (): boolean {
    if (this.outageSince === undefined) return false
    this.log?.info({ outageMs: Date.now() - this.outageSince }, `${this.label} connection restored: resynchronising presence`)
    this.outageSince = undefined
    this.errorLoggedAt = 0
    return true
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
