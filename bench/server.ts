/**
 * A benchmarked server process: starts one variant and answers the orchestrator's requests for
 * CPU and memory figures. Run by bench/run.ts, pinned to its own core.
 */
import { writeHeapSnapshot } from 'node:v8'
import { serve } from './ipc.js'
import { NotAvailable, type RunningServer, type ServerConfig } from './variants/types.js'

const variant = process.argv[2]
const config = JSON.parse(process.argv[3] ?? '{}') as ServerConfig

async function load (): Promise<(config: ServerConfig) => Promise<RunningServer>> {
  if (variant === 'plugin' || variant === 'plugin-redis' || variant === 'plugin-cluster') return (await import('./variants/plugin.js')).start
  if (variant === 'ws') return (await import('./variants/ws.js')).start
  if (variant === 'socketio' || variant === 'socketio-redis' || variant === 'socketio-cluster') return (await import('./variants/socketio.js')).start
  throw new Error(`unknown variant "${variant}"`)
}

function gcMemory (): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage()
}

let server: RunningServer | undefined

serve({
  start: async () => {
    try {
      server = await (await load())(config)
      return { port: server.port, available: true }
    } catch (err) {
      if (err instanceof NotAvailable) return { port: 0, available: false, reason: err.message }
      throw err
    }
  },
  // CPU of this whole process (µs, user + system) and the monotonic clock, at one instant.
  mark: () => {
    const cpu = process.cpuUsage()
    return { cpuUs: cpu.user + cpu.system, atUs: Number(process.hrtime.bigint() / 1000n) }
  },
  memory: () => gcMemory(),
  // A heap snapshot for `bench/heap-summary.ts` (run with --heap-snapshot).
  snapshot: (file: string) => { gcMemory(); return writeHeapSnapshot(file) },
  connections: () => server?.connections() ?? 0,
}, async () => {
  await Promise.race([server?.close(), new Promise((resolve) => setTimeout(resolve, 5000))])
})
