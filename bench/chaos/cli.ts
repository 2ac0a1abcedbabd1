/**
 * `npm run chaos`: the chaos run of issue #14 (see README "Chaos run"). Exits 1 when an invariant
 * failed, the cluster did not converge, or an instance leaked.
 *
 *   npm run chaos                                   90 s, 300 clients, seed 1
 *   npm run chaos -- --seconds=30 --clients=60 --seed=7 --rooms=4 --faults=5 --every=3000
 */
import { runChaos, report } from './run.js'
import type { Tap } from './cluster.js'

const argv = new Map(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, '').split('=') as [string, string | undefined]
  return [k, v ?? 'true']
}))
const number = (name: string, fallback: number): number => {
  const value = Number(argv.get(name) ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}
const seconds = number('seconds', 90)

// The helpers take a test's teardown: here, run in reverse at the end.
const teardowns: Array<() => unknown> = []
const tap: Tap = {
  teardown: (fn) => { teardowns.push(fn) },
  fail: (message) => { throw new Error(message) },
  plan: () => {},
  comment: (...message) => console.log(...message),
}

let exitCode = 1
try {
  const result = await runChaos(tap, {
    seed: number('seed', 1),
    durationMs: seconds * 1000,
    clients: number('clients', 300),
    rooms: number('rooms', 8),
    roomsPerClient: number('rooms-per-client', 2),
    sendEveryMs: number('every', 10_000),
    faults: number('faults', Math.max(5, Math.round(seconds / 8))),
    convergeTimeoutMs: number('converge-timeout', 60) * 1000,
    keepLogs: true,
    log: (line) => console.log(line),
  })
  if (result === undefined) throw new Error('redis-server is not on PATH')
  console.log('\n' + report(result).join('\n'))
  const problems = [...result.violations, ...[...result.divergence.state, ...result.divergence.views].map((d) => `not converged: ${d}`), ...result.leaks]
  if (problems.length > 0) console.log('\nFAILED:\n  ' + problems.join('\n  '))
  else console.log('\nOK: every invariant held')
  exitCode = problems.length === 0 && result.figures.lost === 0 ? 0 : 1
} catch (err) {
  console.error(err)
} finally {
  for (const fn of teardowns.reverse()) await Promise.resolve().then(fn).catch((err: unknown) => console.error(err))
}
process.exit(exitCode)
