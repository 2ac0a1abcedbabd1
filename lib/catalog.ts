/**
 * The message catalog: built-in and app-defined messages in one place, with compiled validators.
 * The hub dispatches through it and the AsyncAPI builder documents it.
 */
import { Compile } from 'typebox/compile'
import type { TSchema } from 'typebox'
import { builtinClientMessages, builtinServerMessages } from '../schemas/builtin.js'
import type { AnyProtocol, ClientMessageDef, ServerMessageDef } from './define.js'
import { WsRegistrationError } from './errors.js'
import { errorCodes } from './protocol/codes.js'

export interface PayloadIssue { path: string, message: string }

export interface CompiledClientMessage {
  readonly def: ClientMessageDef
  /** Returns undefined when the payload is valid, else the failing paths (under `/payload`). */
  readonly validate: (payload: unknown) => PayloadIssue[] | undefined
}

export interface Catalog {
  readonly server: ReadonlyMap<string, ServerMessageDef>
  readonly client: ReadonlyMap<string, CompiledClientMessage>
  /** Every error code → its meaning: the built-in table, then the protocol's own codes. */
  readonly errorCodes: Readonly<Record<string, string>>
}

const MAX_REPORTED_ISSUES = 10

function compilePayload (schema: TSchema): CompiledClientMessage['validate'] {
  const validator = Compile(schema)
  return (payload) => {
    if (validator.Check(payload)) return undefined
    const issues: PayloadIssue[] = []
    for (const error of validator.Errors(payload)) {
      issues.push({ path: '/payload' + error.instancePath, message: error.message })
      if (issues.length === MAX_REPORTED_ISSUES) break
    }
    return issues
  }
}

function docs (spec: { summary?: string, description?: string, examples?: readonly unknown[] }): Pick<ServerMessageDef, 'summary' | 'description' | 'examples'> {
  return { summary: spec.summary, description: spec.description, examples: spec.examples ?? [] }
}

export function buildCatalog (protocol: AnyProtocol | undefined): Catalog {
  const server = new Map<string, ServerMessageDef>()
  // Switched-off built-ins (`defineProtocol({ builtins })`) are left out both ways.
  const disabled: ReadonlySet<string> = protocol?.disabledBuiltins ?? new Set()
  for (const [name, spec] of Object.entries(builtinServerMessages)) {
    if (disabled.has(name)) continue
    server.set(name, { name, payload: spec.payload, durable: 'durable' in spec && spec.durable, builtin: true, ...docs(spec) })
  }
  const clientDefs: ClientMessageDef[] = []
  for (const [name, spec] of Object.entries(builtinClientMessages)) {
    if (disabled.has(name)) continue
    clientDefs.push({ name, payload: spec.payload, reply: 'reply' in spec ? spec.reply : undefined, builtin: true, handler: undefined, ...docs(spec) })
  }
  if (protocol !== undefined) {
    for (const def of protocol.serverMessages.values()) server.set(def.name, def)
    clientDefs.push(...protocol.clientMessages.values())
  }
  const client = new Map<string, CompiledClientMessage>()
  for (const def of clientDefs) {
    if (def.reply !== undefined && !server.has(def.reply)) {
      throw new WsRegistrationError('WS_ERR_UNKNOWN_REPLY',
        `Client message "${def.name}" declares reply "${def.reply}", which is not a server message`)
    }
    client.set(def.name, { def, validate: compilePayload(def.payload) })
  }
  return { server, client, errorCodes: { ...errorCodes, ...Object.fromEntries(protocol?.errorCodes ?? []) } }
}
