/**
 * Pacing: the client keeps what it sends within the limits the server publishes (`x-limits`, read
 * when the client was generated), so an ordinary reconnect — every room re-joined, then the
 * offline queue — or a burst of sends by the app is never refused or closed for flooding. A token
 * bucket like the server's, with a margin (the server's bucket starts earlier and frames may
 * arrive bunched), plus the server's one-off `join_room` allowance per connection, which both
 * sides count first for joins (an exact count: no clock involved).
 */
import type { ServerLimits } from './protocol/index.js'

export interface PacingOptions {
  /** Frames per second on average. */
  perSecond: number
  /** Frames at once. */
  burst: number
  /** `join_room` frames allowed beyond the bucket once per connection (the server's `joinAllowance`). @default 0 */
  joinAllowance?: number
}

/** Share of the server's rate and burst the client uses by default. */
const MARGIN = 0.8

/** The default pacing from the server's published limits: none when the server has no rate limit. */
export function pacingFrom (limits: ServerLimits | undefined): Required<PacingOptions> | false {
  if (limits === undefined || limits.rateLimit === false) return false
  return {
    perSecond: limits.rateLimit.perSecond * MARGIN,
    burst: Math.max(1, Math.floor(limits.rateLimit.burst * MARGIN)),
    joinAllowance: limits.joinAllowance,
  }
}

export class Pacer {
  private tokens = 0
  private allowance = 0
  private last = 0

  constructor (private readonly pacing: Required<PacingOptions> | false) {}

  /** A new connection: the server starts a new bucket and allowance for it. */
  reset (now: number): void {
    if (this.pacing === false) return
    this.tokens = this.pacing.burst
    this.allowance = this.pacing.joinAllowance
    this.last = now
  }

  /** 0 when a frame may go now (it is counted), else how many ms until one may. */
  take (isJoin: boolean, now: number): number {
    const pacing = this.pacing
    if (pacing === false) return 0
    if (isJoin && this.allowance > 0) {
      this.allowance--
      return 0
    }
    if (now > this.last) {
      this.tokens = Math.min(pacing.burst, this.tokens + (now - this.last) * pacing.perSecond / 1000)
      this.last = now
    }
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - this.tokens) * 1000 / pacing.perSecond))
  }
}
