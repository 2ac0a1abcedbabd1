/**
 * Test helpers: a real server on a random port and real WebSocket clients with a frame queue,
 * so no frame is missed between `await`s.
 */
import type { Server } from 'node:http'
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify'
import WebSocket from 'ws'
import { createSigner } from 'fast-jwt'
import wsPlugin, { type WsPluginOptions } from '../../plugin.js'
import { contractForUrl, contractOf, recordFrame, registerContractHost, type FrameContract } from './contract.js'

export const SECRET = 'test-secret'

interface Tap {
  teardown(fn: () => unknown): void
  /** Called with each contract violation (a frame the app's AsyncAPI document does not allow). */
  fail?(message: string): unknown
}

export function tokenFor (userId: string, options: { expiresInMs?: number, secret?: string, claims?: Record<string, unknown> } = {}): string {
  const sign = createSigner({
    key: options.secret ?? SECRET,
    algorithm: 'HS256',
    ...(options.expiresInMs === undefined ? {} : { expiresIn: options.expiresInMs }),
  })
  return sign({ sub: userId, ...options.claims })
}

export interface TestApp {
  app: FastifyInstance
  url: string
  port: number
}

/** A listening app with the plugin (auth on `SECRET` unless overridden), closed at teardown. */
export async function buildApp (
  t: Tap,
  options: WsPluginOptions = {},
  setup?: (app: FastifyInstance) => void | Promise<void>,
  /** Runs once the plugin is registered (e.g. `app.ws.addHook`). */
  registered?: (app: FastifyInstance) => void | Promise<void>,
  fastifyOptions: FastifyHttpOptions<Server> = { logger: false },
): Promise<TestApp> {
  const app = Fastify(fastifyOptions)
  if (setup !== undefined) await setup(app)
  await app.register(wsPlugin, { auth: { secret: SECRET }, ...options })
  if (registered !== undefined) await registered(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const unregister = registerContractHost(`127.0.0.1:${port}`, app)
  t.teardown(async () => { unregister(); await app.close() })
  return { app, port, url: `ws://127.0.0.1:${port}${options.path ?? '/ws'}` }
}

export interface Frame {
  type: string
  id?: string
  room?: string
  seq?: number
  payload: any
}

export interface CloseInfo { code: number, reason: string }

export interface TestClientOptions {
  /** Checks every received frame. @default the contract of the `buildApp()` app at the socket's host */
  contract?: FrameContract
  /** Reports a contract violation (e.g. `t.fail`). @default the next `waitFor()` throws it */
  onViolation?: (message: string) => void
}

/** A real WebSocket client that queues every frame it receives and checks it against the contract. */
export class TestClient {
  readonly frames: Frame[] = []
  /** Contract violations among the received frames. */
  readonly violations: string[] = []
  readonly closed: Promise<CloseInfo>
  private readonly waiters: Array<() => void> = []
  private nextId = 0
  private cursor = 0
  private unreported = 0

  constructor (readonly socket: WebSocket, options: TestClientOptions = {}) {
    const contract = options.contract ?? contractForUrl(socket.url)
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame
      const violation = recordFrame(frame, contract)
      if (violation !== undefined) {
        this.violations.push(violation)
        options.onViolation?.(violation)
      }
      if (options.onViolation === undefined) this.unreported = this.violations.length
      this.frames.push(frame)
      for (const wake of this.waiters.splice(0)) wake()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const wake of this.waiters.splice(0)) wake()
      })
    })
  }

  get isOpen (): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  sendRaw (data: string | Buffer, options?: { binary?: boolean }): void {
    this.socket.send(data, options ?? {})
  }

  send (type: string, payload?: unknown, id?: string): void {
    this.socket.send(JSON.stringify(payload === undefined ? { type, id } : { type, id, payload }))
  }

  /** Send with a fresh id and wait for the frame that answers it. */
  async request (type: string, payload?: unknown, timeoutMs = 2000): Promise<Frame> {
    const id = `r${++this.nextId}`
    this.send(type, payload, id)
    return this.waitFor((frame) => frame.id === id, timeoutMs, `reply to ${type} #${id}`)
  }

  /** The next frame (after those already consumed) that matches; earlier non-matching frames stay unread. */
  async waitFor (match: string | ((frame: Frame) => boolean), timeoutMs = 2000, what?: string): Promise<Frame> {
    const predicate = typeof match === 'string' ? (frame: Frame) => frame.type === match : match
    const deadline = Date.now() + timeoutMs
    if (this.unreported > 0) {
      this.unreported = 0
      throw new Error(`Contract violation: ${this.violations.join('\n')}`)
    }
    for (;;) {
      for (let i = this.cursor; i < this.frames.length; i++) {
        const frame = this.frames[i]!
        if (predicate(frame)) {
          this.frames.splice(i, 1)
          return frame
        }
      }
      const left = deadline - Date.now()
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`Timed out waiting for ${what ?? (typeof match === 'string' ? match : 'a frame')}; have: ${JSON.stringify(this.frames.slice(-5))}`)
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Frames of `type` received so far and not consumed. */
  pending (type?: string): Frame[] {
    return type === undefined ? [...this.frames] : this.frames.filter((frame) => frame.type === type)
  }

  /** Wait a little and assert nothing of `type` arrived. */
  async expectNone (type: string, ms = 100): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms))
    return !this.frames.some((frame) => frame.type === type)
  }

  async close (): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close()
    return this.closed
  }
}

export interface ConnectOptions {
  token?: string | null
  headers?: Record<string, string>
  /** Wait for `connected` (default true). */
  awaitConnected?: boolean
  autoPong?: boolean
}

/** Open a client as `userId` (a valid token is minted unless `token` is given; `null` sends none). */
export async function connect (t: Tap, target: TestApp, userId = 'alice', options: ConnectOptions = {}): Promise<TestClient> {
  const token = options.token === undefined ? tokenFor(userId) : options.token
  const url = token === null ? target.url : `${target.url}?token=${encodeURIComponent(token)}`
  const socket = new WebSocket(url, { headers: options.headers, autoPong: options.autoPong ?? true })
  const fail = t.fail?.bind(t)
  const client = new TestClient(socket, {
    contract: contractOf(target.app),
    ...(fail === undefined ? {} : { onViolation: (message: string) => { fail(message) } }),
  })
  t.teardown(() => client.close())
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  if (options.awaitConnected !== false) await client.waitFor('connected')
  return client
}

export async function joined (client: TestClient, room: string): Promise<Frame> {
  const reply = await client.request('join_room', { room })
  if (reply.type !== 'room_joined') throw new Error(`join_room failed: ${JSON.stringify(reply)}`)
  return reply
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Wait until `condition` holds (polled), or fail after `timeoutMs` naming `what`. */
export async function until (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`)
    await sleep(5)
  }
}
