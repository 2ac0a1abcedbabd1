/**
 * Request/response over a child process's IPC channel: the orchestrator asks, the server and the
 * load generator answer. Every request has an id and a time limit so a wedged child cannot hang
 * the run.
 */
import type { ChildProcess } from 'node:child_process'

export interface Request { id: number, cmd: string, args?: unknown }
export interface Response { id: number, ok: boolean, value?: unknown, error?: string }

/** The orchestrator side: `call(child, 'cmd', args)` resolves with the child's answer. */
export class Peer {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  readonly exited: Promise<number | null>

  constructor (readonly name: string, readonly child: ChildProcess) {
    child.on('message', (message: Response) => {
      const waiter = this.pending.get(message.id)
      if (waiter === undefined) return
      this.pending.delete(message.id)
      clearTimeout(waiter.timer)
      if (message.ok) waiter.resolve(message.value)
      else waiter.reject(new Error(`${name}: ${message.error ?? 'failed'}`))
    })
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        for (const waiter of this.pending.values()) {
          clearTimeout(waiter.timer)
          waiter.reject(new Error(`${name} exited (code ${String(code)})`))
        }
        this.pending.clear()
        resolve(code)
      })
    })
  }

  async call<T> (cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name}: "${cmd}" timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.child.send({ id, cmd, args } satisfies Request)
    })
  }

  /** Ask politely, then kill: a child never outlives its run. */
  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    await this.call('stop', undefined, 10_000).catch(() => {})
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await this.exited
    clearTimeout(killer)
  }
}

export type Handler = (args: any) => unknown

/** The child side: answer requests with `handlers[cmd]`; `stop` answers, then exits. */
export function serve (handlers: Record<string, Handler>, onStop: () => Promise<void>): void {
  process.on('message', (message: Request) => {
    if (message.cmd === 'stop') {
      onStop().finally(() => {
        process.send!({ id: message.id, ok: true } satisfies Response, () => process.exit(0))
      })
      return
    }
    const handler = handlers[message.cmd]
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown command "${message.cmd}"`)
        return handler(message.args)
      })
      .then(
        (value) => process.send!({ id: message.id, ok: true, value } satisfies Response),
        (err: unknown) => process.send!({ id: message.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies Response),
      )
  })
  // The orchestrator died: do not linger.
  process.on('disconnect', () => process.exit(0))
}
