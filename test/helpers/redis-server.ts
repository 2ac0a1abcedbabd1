/**
 * A Redis server of the test's own, on a free port, that the test can kill and start again with
 * its data gone (no persistence), as a Redis restart without persistence loses everything. A child
 * process of the test, killed at teardown and when the test process exits. Without `redis-server`
 * on PATH the file is skipped, or fails under CI.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { freePort, requireRedisBinaries, type Tap } from './redis-cluster.js'

export interface OwnRedis {
  readonly port: number
  readonly url: string
  /** Kill the server (SIGKILL) and start a fresh, empty one on the same port; resolves once it answers. */
  restartEmpty(): Promise<void>
}

export async function useOwnRedis (t: Tap): Promise<OwnRedis | undefined> {
  if (!await requireRedisBinaries(t)) return undefined
  const port = await freePort()
  // Its own working folder: nothing it might write (an RDB on a SAVE, say) lands in the checkout.
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-redis-'))
  let server: ChildProcess | undefined
  const stop = (): void => { if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL') }
  process.once('exit', stop)
  const start = async (): Promise<void> => {
    server = spawn('redis-server', ['--port', String(port), '--dir', dir, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' })
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    try {
      for (let i = 0; ; i++) {
        try {
          await probe.connect()
          await probe.ping()
          return
        } catch (err) {
          if (i > 100) throw err
          probe.disconnect()
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    } finally {
      probe.disconnect()
    }
  }
  const kill = async (): Promise<void> => {
    const current = server
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return
    const exited = new Promise((resolve) => current.once('exit', resolve))
    current.kill('SIGKILL')
    await exited
  }
  t.teardown(async () => {
    await kill()
    process.removeListener('exit', stop)
    rmSync(dir, { recursive: true, force: true })
  })
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    restartEmpty: async () => {
      await kill()
      await start()
    },
  }
}
