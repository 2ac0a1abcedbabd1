/**
 * Protocol-level liveness, on a timer: terminate connections that missed the previous ping, and
 * close slow readers that stayed over the high-water mark with no write to notice it. It also arms
 * the timers of token expiries coming due (expiry.ts).
 */
import { CloseCode } from './protocol/codes.js'
import { armIfDue, type Disconnect } from './expiry.js'
import type { ResolvedOptions } from './options.js'
import type { Registry } from './registry.js'

type SweepOptions = Pick<ResolvedOptions, 'highWaterMark' | 'slowConsumerGraceMs' | 'heartbeatIntervalMs'>

/**
 * How far ahead a token's expiry gets its timer (expiry.ts): two sweeps, so a sweep that runs late
 * under load still arms it before it is due. 0 without a heartbeat: every expiry is armed at once.
 */
export function expiryHorizonMs (heartbeatIntervalMs: number): number {
  return heartbeatIntervalMs > 0 ? 2 * heartbeatIntervalMs : 0
}

export function sweep (registry: Registry, options: SweepOptions, disconnect: Disconnect, now: number): void {
  for (const connection of registry.connections.values()) {
    if (!connection.alive) {
      connection.log.info('terminating unresponsive connection')
      connection.closed = true
      connection.socket.terminate()
      continue
    }
    // No write since the buffer went over the mark: judge by the buffer as it is now.
    if (connection.overSince !== 0 && connection.socket.bufferedAmount <= options.highWaterMark) connection.overSince = 0
    if (connection.overSince !== 0 && now - connection.overSince > options.slowConsumerGraceMs) {
      connection.log.warn({ dropped: connection.dropped }, 'closing slow consumer')
      disconnect(connection, CloseCode.TryAgainLater, 'Slow consumer')
      continue
    }
    armIfDue(connection, disconnect, expiryHorizonMs(options.heartbeatIntervalMs), now)
    connection.alive = false
    connection.socket.ping()
  }
}

/** Sweep every `intervalMs` (0: never). Returns the stop function. */
export function startHeartbeat (intervalMs: number, sweepNow: (now: number) => void): () => void {
  if (intervalMs <= 0) return () => {}
  const timer = setInterval(() => sweepNow(Date.now()), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
