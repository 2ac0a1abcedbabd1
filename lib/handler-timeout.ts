/**
 * A handler's time limit. Its request is answered when it settles, or with `handler_timeout` when
 * it runs longer than allowed; then the connection is free to process its next frames at once. A
 * handler cannot be stopped from outside: it runs on, and its late result is discarded (a late
 * failure is still logged). Shutdown still waits for it (`done` fires when it really settles).
 */
export interface TimedSettlement {
  /** The handler resolved in time. */
  value(value: unknown): void
  /** The handler failed in time. */
  error(err: unknown): void
  /** It ran out of time: answer the request. */
  timedOut(): void
  /** It failed after its timeout: nobody to answer, only to log. */
  late(err: unknown): void
  /** The connection may process its next frame (in time, or at the timeout). */
  free(): void
  /** The handler really settled. */
  done(): void
}

export async function settleWithin (result: Promise<unknown>, timeoutMs: number, on: TimedSettlement): Promise<void> {
  let timedOut = false
  const timer = timeoutMs > 0
    ? setTimeout(() => {
      timedOut = true
      on.timedOut()
      on.free()
    }, timeoutMs)
    : undefined
  let answer: () => void
  try {
    const value = await result
    answer = () => { if (!timedOut) on.value(value) }
  } catch (err) {
    answer = () => { if (timedOut) on.late(err); else on.error(err) }
  }
  clearTimeout(timer)
  try {
    answer()
  } finally {
    on.done()
    if (!timedOut) on.free()
  }
}
