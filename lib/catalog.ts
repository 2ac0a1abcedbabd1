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
import { PresenceMessage, ServerMessage } from './protocol/names.js'
import { presenceDocs, presenceUpdatedPayload, setPresencePayload, withPresenceMap } from '../schemas/presence.js'

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
  /** The declared presence state (`defineProtocol().presence()`), with its validator; undefined when none. */
  readonly presence: { readonly schema: TSchema, readonly validate: (state: unknown) => PayloadIssue[] | undefined } | undefined
}

/** Built-in replies that list members: with a presence state they also carry each member's state. */
const MEMBER_LISTS: readonly string[] = [ServerMessage.RoomJoined, ServerMessage.RoomAdded, ServerMessage.MembersPage]

const MAX_REPORTED_ISSUES = 10

function compilePayload (schema: TSchema, at = '/payload'): CompiledClientMessage['validate'] {
  const validator = Compile(schema)
  return (payload) => {
    if (validator.Check(payload)) return undefined
    const issues: PayloadIssue[] = []
    for (const error of validator.Errors(payload)) {
      issues.push({ path: at + error.instancePath, message: error.message })
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
  const state = protocol?.presenceState
  if (state !== undefined) {
    for (const name of MEMBER_LISTS) {
      const def = server.get(name)!
      server.set(name, { ...def, payload: withPresenceMap(def.payload, state) })
    }
    const updated = PresenceMessage.PresenceUpdated
    server.set(updated, { name: updated, payload: presenceUpdatedPayload(state), durable: false, builtin: true, ...docs(presenceDocs[updated]) })
    const set = PresenceMessage.SetPresence
    clientDefs.push({ name: set, payload: setPresencePayload(state), reply: undefined, builtin: true, handler: undefined, ...docs(presenceDocs[set]) })
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
  return {
    server,
    client,
    errorCodes: { ...errorCodes, ...Object.fromEntries(protocol?.errorCodes ?? []) },
    presence: state === undefined ? undefined : { schema: state, validate: compilePayload(state, '/state') },
  }
}
