/**
 * The default reconnect policy of the generated client, on its own: injected randomness and
 * clock, so every bound is checked exactly and nothing sleeps.
 */
import t from 'tap'
import { randomisedExponentialBackoff } from '../sdk-gen/template-dir/template/src/runtime/backoff.mjs'

/** A clock the test moves by hand. */
function manualClock (): { now: () => number, advance: (ms: number) => void } {
  let time = 1_000_000
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('full jitter: attempt n waits in [0, base · 2^(n−1))', async (t) => {
  const lowest = randomisedExponentialBackoff({ baseMs: 100, random: () => 0 })
  const highest = randomisedExponentialBackoff({ baseMs: 100, random: () => 0.999999 })
  for (let n = 1; n <= 5; n++) {
    const ceiling = 100 * 2 ** (n - 1)
    t.same(lowest.next(), { attempt: n, delayMs: 0 }, `attempt ${n} can be immediate`)
    const high = highest.next()!
    t.equal(high.attempt, n)
    t.ok(high.delayMs < ceiling && high.delayMs >= ceiling - 1, `attempt ${n} stays below ${ceiling} ms (got ${high.delayMs})`)
  }
})

t.test('the delay is the random fraction of the ceiling', async (t) => {
  const policy = randomisedExponentialBackoff({ baseMs: 1000, random: () => 0.5 })
  t.same([policy.next(), policy.next(), policy.next()].map((step) => step!.delayMs), [500, 1000, 2000])
})

t.test('the ceiling is capped at maxMs, even after very many attempts', async (t) => {
  const policy = randomisedExponentialBackoff({ baseMs: 500, maxMs: 30_000, random: () => 0.999999 })
  let last = 0
  for (let n = 1; n <= 2000; n++) last = policy.next()!.delayMs
  t.ok(Number.isFinite(last))
  t.ok(last < 30_000 && last >= 29_999, `capped (got ${last})`)
})

t.test('the counter starts over after a connection that stayed up for stableAfterMs', async (t) => {
  const clock = manualClock()
  const policy = randomisedExponentialBackoff({ stableAfterMs: 10_000, random: () => 0, now: clock.now })
  policy.next()
  policy.next()
  t.equal(policy.next()!.attempt, 3)
  policy.opened()
  clock.advance(10_000)
  t.equal(policy.next()!.attempt, 1, 'stable: reset')
})

t.test('a connection that drops before stableAfterMs keeps the counter growing', async (t) => {
  const clock = manualClock()
  const policy = randomisedExponentialBackoff({ stableAfterMs: 10_000, random: () => 0, now: clock.now })
  policy.next()
  policy.next()
  policy.opened()
  clock.advance(9_999)
  t.equal(policy.next()!.attempt, 3, 'flapping connections keep backing off')
})

t.test('maxAttempts gives up: next() returns undefined', async (t) => {
  const policy = randomisedExponentialBackoff({ maxAttempts: 2, random: () => 0 })
  t.ok(policy.next())
  t.ok(policy.next())
  t.equal(policy.next(), undefined)
})
