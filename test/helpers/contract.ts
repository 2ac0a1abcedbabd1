/**
 * The contract check: every frame a test client receives is validated against its message
 * schema (`server.<type>`) in the AsyncAPI document of the app that sent it. `connect()` and
 * `buildApp()` wire it in, so every test file is checked without opting in; a frame the document
 * does not describe fails the test that received it.
 */
import { Compile } from 'typebox/compile'
import type { FastifyInstance } from 'fastify'
import type { AsyncApiDocument } from '../../plugin.js'
import type { Frame } from './index.js'

export const receivedFrames: Frame[] = []

export interface FrameContract {
  /** Undefined when the frame matches its message schema, else what is wrong with it. */
  check(frame: unknown): string | undefined
}

type Check = ReturnType<typeof Compile>

/** Validators for every server → client message of a document, keyed by wire type. */
export function compileContract (document: AsyncApiDocument): FrameContract {
  const schemas = document.components.schemas ?? {}
  const validators = new Map<string, Check>()
  for (const [key, message] of Object.entries(document.components.messages)) {
    if (!key.startsWith('server.')) continue
    // Refs in payloads point to `#/components/schemas/…`: give the schema that root to resolve them.
    const frameSchema = { ...(message.payload as object), components: { schemas } }
    validators.set(key.slice('server.'.length), Compile(frameSchema as never))
  }
  return {
    check (frame) {
      const type = (frame as { type?: unknown } | null)?.type
      if (typeof type !== 'string') return `frame without a string "type": ${JSON.stringify(frame)}`
      const validator = validators.get(type)
      if (validator === undefined) return `the server sent "${type}", which its AsyncAPI document does not describe: ${JSON.stringify(frame)}`
      if (validator.Check(frame)) return undefined
      const problems = [...validator.Errors(frame)].slice(0, 5).map((error) => `${error.instancePath || '/'} ${error.message}`)
      return `frame "${type}" does not match server.${type} in the AsyncAPI document (${problems.join('; ')}): ${JSON.stringify(frame)}`
    },
  }
}

const byApp = new WeakMap<FastifyInstance, FrameContract>()

/** The contract of a ready app with the plugin (built once per app), or undefined without one. */
export function contractOf (app: FastifyInstance): FrameContract | undefined {
  let contract = byApp.get(app)
  if (contract === undefined && typeof app.asyncapi === 'function') {
    contract = compileContract(app.asyncapi())
    byApp.set(app, contract)
  }
  return contract
}

// Clients built directly on a socket (`new TestClient(new WebSocket(url))`) find the contract of
// the `buildApp()` app listening on that host:port.
const byHost = new Map<string, () => FrameContract | undefined>()

export function registerContractHost (host: string, app: FastifyInstance): () => void {
  const lookup = (): FrameContract | undefined => contractOf(app)
  byHost.set(host, lookup)
  return () => { if (byHost.get(host) === lookup) byHost.delete(host) }
}

export function contractForUrl (url: string): FrameContract | undefined {
  return byHost.get(new URL(url).host)?.()
}

/** Record a received frame; returns the contract violation, if any. */
export function recordFrame (frame: Frame, contract: FrameContract | undefined): string | undefined {
  receivedFrames.push(frame)
  return contract?.check(frame)
}
