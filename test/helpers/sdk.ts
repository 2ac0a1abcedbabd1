/**
 * Helpers of the SDK tests: generate a client package once per test file, load it, and a TCP
 * proxy the test controls (to freeze a connection without closing it: a half-open connection;
 * to cut it; to refuse new connections while the "network" is down).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateSdk, type GenerateResult } from '../../sdk-gen/generate.js'

interface Tap { teardown(fn: () => unknown): void }

const ROOT = new URL('../../', import.meta.url).pathname

/** The repo's document (the server export) when present, else the contract-shaped chat fixture. */
export const CHAT_DOCUMENT = existsSync(join(ROOT, 'asyncapi.yaml'))
  ? join(ROOT, 'asyncapi.yaml')
  : join(ROOT, 'test/fixtures/asyncapi-chat.yaml')
export const GAME_DOCUMENT = join(ROOT, 'test/fixtures/asyncapi-game.yaml')

export async function tempDir (t: Tap, prefix = 'sdk-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Generate (and build) a package from `input` into a temp folder removed at teardown. */
export async function generateInto (t: Tap, input: string, name = '@test/realtime-client'): Promise<GenerateResult> {
  const dir = await tempDir(t)
  return generateSdk({ input, out: join(dir, 'client'), name })
}

/** The built package's exports. Typed loosely: tests only see what the generated .d.ts declares at runtime. */
export async function loadPackage (outDir: string): Promise<any> {
  return import(pathToFileURL(join(outDir, 'dist/index.js')).href)
}

/** Resolves with the next event `name` of a generated client that matches. */
export function nextEvent<T = any> (client: any, name: string, match: (event: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`Timed out waiting for client event "${name}"`)) }, timeoutMs)
    const off = client.on(name, (event: T) => {
      if (!match(event)) return
      clearTimeout(timer)
      off()
      resolve(event)
    })
  })
}

/** Resolves with the next frame an `on…` subscription receives that matches. */
export function nextMessage<T = any> (subscribe: (handler: (payload: T, meta: any) => void) => () => void, match: (payload: T, meta: any) => boolean = () => true, timeoutMs = 5000): Promise<{ payload: T, meta: any }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('Timed out waiting for a message')) }, timeoutMs)
    const off = subscribe((payload, meta) => {
      if (!match(payload, meta)) return
      clearTimeout(timer)
      off()
      resolve({ payload, meta })
    })
  })
}

export interface Proxy {
  readonly port: number
  /** Connections opened through the proxy so far. */
  readonly connections: number
  /** Stop forwarding on every current connection, without closing anything (half-open). */
  freeze(): void
  /** Destroy every current connection (those to `targetPort` only, when given) abruptly (no close frame: the client sees 1006). */
  cut(targetPort?: number): void
  /** While true, new connections are destroyed as they arrive (a network that is down). */
  refusing: boolean
}

/**
 * A TCP proxy to `target`; new connections always flow, frozen ones never do again. `target` may
 * be a function, asked for each new connection: a load balancer over several servers.
 */
export async function startProxy (t: Tap, target: number | (() => number)): Promise<Proxy> {
  const pairs = new Set<{ client: net.Socket, upstream: net.Socket, frozen: boolean, port: number }>()
  let count = 0
  let refusing = false
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy()
      return
    }
    count++
    const port = typeof target === 'number' ? target : target()
    const upstream = net.connect(port, '127.0.0.1')
    const pair = { client, upstream, frozen: false, port }
    pairs.add(pair)
    client.on('data', (chunk) => { if (!pair.frozen) upstream.write(chunk) })
    upstream.on('data', (chunk) => { if (!pair.frozen) client.write(chunk) })
    const end = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as net.AddressInfo
  const cut = (targetPort?: number): void => {
    for (const pair of pairs) {
      if (targetPort !== undefined && pair.port !== targetPort) continue
      pair.client.destroy()
      pair.upstream.destroy()
      pairs.delete(pair)
    }
  }
  t.teardown(() => {
    cut()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    port: address.port,
    get connections () { return count },
    freeze () { for (const pair of pairs) pair.frozen = true },
    cut: (targetPort?: number) => cut(targetPort),
    get refusing () { return refusing },
    set refusing (value: boolean) { refusing = value },
  }
}
