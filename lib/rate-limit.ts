/**
 * Token bucket: `rate` tokens per second, at most `burst` saved up. Refilled lazily on use.
 * Besides, a one-off allowance for `join_room` frames (`maxRoomsPerConnection` of them per
 * connection): a client re-joining its rooms right after a reconnect is not flooding. Its joins
 * are counted against the allowance first, and only then against the bucket, so a client can
 * mirror the count exactly (no clock involved) and keep the whole bucket for its other frames.
 * Published in `x-limits`.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (private readonly rate: number, private readonly burst: number, now: number, private joinAllowance = 0) {
    this.tokens = burst
    this.last = now
  }

  take (now: number): boolean {
    const elapsed = now - this.last
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate / 1000)
      this.last = now
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Whether `join_room` frames still have an allowance (only then is a frame's type worth a look). */
  get joinsAllowed (): boolean {
    return this.joinAllowance > 0
  }

  /** A `join_room` frame, counted against the allowance. */
  takeJoin (): void {
    this.joinAllowance--
  }

  /** How long until the bucket is full again: the delay a client closed for flooding waits. */
  get refillMs (): number {
    return Math.ceil(this.burst / this.rate * 1000)
  }
}
