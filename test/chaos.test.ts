/**
 * The chaos run of issue #14 (item 8), short: 3 instances on the test's own Redis, 60 clients of
 * the generated client with its defaults, 20 s of seeded faults (kill -9, a deploy with 1001, a
 * Redis restart that loses the data, a cut Redis link, clients cut off an instance), then the
 * invariants: everyone agrees on the members, every acknowledged message reached every member in
 * `seq` order or was replayed or reported lost (`recovered: false`), nothing leaked. The full run
 * is `npm run chaos` (bench/chaos/). CHAOS_SEED=n repeats another schedule.
 */
import t from 'tap'
import { runChaos, report } from '../bench/chaos/run.js'
import { FAULT_KINDS } from '../bench/chaos/faults.js'

const seed = Number(process.env.CHAOS_SEED ?? 1)

t.test(`under seeded faults (seed ${seed}) every member converges on the truth, no acknowledged message is lost unreported, nothing leaks`, async (t) => {
  const result = await runChaos(t, {
    seed,
    durationMs: 20_000,
    clients: 60,
    rooms: 4,
    roomsPerClient: 2,
    sendEveryMs: 3000,
    faults: FAULT_KINDS.length,
    convergeTimeoutMs: 40_000,
    log: (line) => t.comment(line),
  })
  if (result === undefined) return
  for (const line of report(result)) t.comment(line)
  const f = result.figures
  for (const kind of FAULT_KINDS) t.ok(f.faults[kind] >= 1, `${kind} was injected`)
  t.ok(f.acked > 0 && f.delivered > 0, 'messages flowed')
  t.ok(f.reconnects > 0 && f.rejoinsRecovered > 0, 'clients reconnected and recovered')
  t.ok(f.rejoinsNotRecovered > 0, 'the Redis restart was reported as recovered: false')
  for (const line of result.violations) t.comment(line)
  t.same(result.divergence.state, [], `converged: on every instance the adapter's members are the clients in each room, every client is open and re-joined, all at the same seq (${String(f.stateConvergeMs)} ms)`)
  for (const line of result.divergence.views) t.comment(line)
  t.same(result.divergence.views, [], 'every client\'s members view is the clients in the room (presence versions: a late user_left of a user\'s old instance is dropped)')
  t.equal(f.lost, 0, 'no acknowledged message lost without a recovered: false')
  t.equal(f.duplicates, 0, 'no message received twice')
  t.equal(f.orderViolations, 0, 'no gap or step back in seq on a connection')
  t.same(result.violations, [], 'no violation')
  t.equal(f.unannouncedRestarts + f.lostInRestart, 0, 'a member connected through a Redis data loss is told its room\'s numbering restarted (and what it lost)')
  t.same(result.leaks, [], 'after every client left, each instance holds no connection, room, member, timer or socket more than at its start, and a bounded heap')
})
