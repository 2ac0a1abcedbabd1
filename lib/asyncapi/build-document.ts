/**
 * Catalog + options → the AsyncAPI 3.0.0 document. Follows the contract shared with the SDK
 * generator (server perspective, one `ws` channel, `client.<type>` / `server.<type>` keys,
 * whole-frame payloads, `x-` extensions). Pure: the same inputs give the same document.
 */
import { builtinServerMessages } from '../../schemas/builtin.js'
import type { Catalog } from '../catalog.js'
import type { ClientMessageDef, ServerMessageDef } from '../define.js'
import { closeCodesExtension, codesMarkdown, errorCodesExtension } from './codes.js'
import { clientFrameExamples, payloadExamples, serverFrameExamples } from './examples.js'
import { clientFrameSchema, serverFrameSchema } from './frame-schema.js'
import { messageKey, operationId, titleOf, type Direction } from './names.js'
import type { ResolvedAsyncApiOptions } from './options.js'
import { sanitizeSchema, type JsonSchema, type SchemaComponents } from './sanitize-schema.js'

export const ASYNCAPI_VERSION = '3.0.0'
const CHANNEL = 'ws'
const CHANNEL_REF = `#/channels/${CHANNEL}`
const JWT_REF = '#/components/securitySchemes/jwt'

/** The AsyncAPI document as plain JSON data. */
export interface AsyncApiDocument {
  asyncapi: typeof ASYNCAPI_VERSION
  info: { title: string, version: string, description: string }
  servers?: Record<string, unknown>
  defaultContentType: string
  channels: Record<string, Record<string, unknown>>
  operations: Record<string, Record<string, unknown>>
  components: { messages: Record<string, Record<string, unknown>>, schemas?: SchemaComponents, securitySchemes?: Record<string, unknown> }
  'x-error-codes': Record<string, { description: string }>
  'x-close-codes': Record<string, { name: string, reconnect: boolean, description: string }>
}

export interface DocumentSource {
  catalog: Catalog
  /** The WebSocket route, e.g. `/ws`: the channel address. */
  wsPath: string
  /** Whether connections need a JWT (`token` query parameter). */
  auth: boolean
  options: ResolvedAsyncApiOptions
}

const CONVENTION = [
  '## How to read this document',
  '',
  'This document is written from the **server\'s perspective**: `receive` operations are the messages clients send to the server, `send` operations are the messages the server sends to clients.',
  'Message keys carry the direction, because some wire types exist both ways: `client.<type>` (client → server) and `server.<type>` (server → client); each message\'s `name` is its wire `type`.',
  '',
  'Every frame is one JSON object in a WebSocket text frame. Clients send `{"type", "id"?, "payload"}`; a request with an `id` gets exactly one reply carrying the same `id`: its declared reply (operation `reply`, extension `x-reply`), `ack` when none is declared, or `error`.',
  'The server sends `{"type", "id"?, "room"?, "seq"?, "payload"}`: `room` on room deliveries (`x-room`), and `seq` on durable ones (`x-durable`: kept in the room\'s history and recoverable with `join_room` `since`).',
].join('\n')

function isRoomDelivery (def: ServerMessageDef): boolean {
  if (!def.builtin) return true // app messages may be broadcast to rooms
  const spec = (builtinServerMessages as Record<string, object>)[def.name]
  return spec !== undefined && 'room' in spec && spec.room === true
}

function describe (def: { name: string, summary: string | undefined, description: string | undefined }): Record<string, string> {
  const out: Record<string, string> = { name: def.name, title: titleOf(def.name), summary: def.summary ?? titleOf(def.name) }
  if (def.description !== undefined) out.description = def.description
  return out
}

function clientMessage (def: ClientMessageDef, components: SchemaComponents): Record<string, unknown> {
  const where = `client message "${def.name}"`
  return {
    ...describe(def),
    payload: clientFrameSchema(def.name, sanitizeSchema(def.payload, components, where)),
    examples: clientFrameExamples(def.name, payloadExamples(def, 'client')),
    'x-direction': 'client-to-server',
    'x-reply': def.reply ?? 'ack',
  }
}

function serverMessage (def: ServerMessageDef, replies: ReadonlySet<string>, components: SchemaComponents): Record<string, unknown> {
  const where = `server message "${def.name}"`
  const room = isRoomDelivery(def)
  return {
    ...describe(def),
    payload: serverFrameSchema(def.name, sanitizeSchema(def.payload, components, where)),
    examples: serverFrameExamples(def.name, payloadExamples(def, 'server'), { room, durable: def.durable, reply: replies.has(def.name) }),
    'x-direction': 'server-to-client',
    'x-durable': def.durable,
    'x-room': room,
  }
}

function operation (direction: Direction, type: string, summary: string | undefined, reply?: string): Record<string, unknown> {
  const op: Record<string, unknown> = {
    action: direction === 'client' ? 'receive' : 'send',
    channel: { $ref: CHANNEL_REF },
  }
  if (summary !== undefined) op.summary = summary
  op.messages = [{ $ref: `${CHANNEL_REF}/messages/${messageKey(direction, type)}` }]
  if (reply !== undefined) {
    op.reply = { channel: { $ref: CHANNEL_REF }, messages: [{ $ref: `${CHANNEL_REF}/messages/${messageKey('server', reply)}` }] }
  }
  return op
}

export function buildDocument (source: DocumentSource): AsyncApiDocument {
  const { catalog, wsPath, auth, options } = source
  const components: SchemaComponents = {}
  const messages: Record<string, Record<string, unknown>> = {}
  const channelMessages: Record<string, { $ref: string }> = {}
  const operations: Record<string, Record<string, unknown>> = {}

  const replies = new Set(['ack', 'error'])
  for (const { def } of catalog.client.values()) if (def.reply !== undefined) replies.add(def.reply)

  for (const { def } of catalog.client.values()) {
    const key = messageKey('client', def.name)
    messages[key] = clientMessage(def, components)
    channelMessages[key] = { $ref: `#/components/messages/${key}` }
    operations[operationId('client', def.name)] = operation('client', def.name, def.summary, def.reply ?? 'ack')
  }
  for (const def of catalog.server.values()) {
    const key = messageKey('server', def.name)
    messages[key] = serverMessage(def, replies, components)
    channelMessages[key] = { $ref: `#/components/messages/${key}` }
    operations[operationId('server', def.name)] = operation('server', def.name, def.summary)
  }

  const description = [options.info.description, CONVENTION, codesMarkdown()].filter((part) => part !== undefined).join('\n\n')
  const servers = Object.entries(options.servers).map(([name, server]) => [name, {
    ...server,
    ...(auth && server.security === undefined ? { security: [{ $ref: JWT_REF }] } : {}),
  }] as const)
  const document: AsyncApiDocument = {
    asyncapi: ASYNCAPI_VERSION,
    info: { title: options.info.title, version: options.info.version, description },
    ...(servers.length > 0 ? { servers: Object.fromEntries(servers) } : {}),
    defaultContentType: 'application/json',
    channels: {
      [CHANNEL]: {
        address: wsPath,
        title: 'WebSocket endpoint',
        description: auth
          ? `The WebSocket endpoint (\`GET ${wsPath}?token=<jwt>\`). A connection without a valid token is closed with 4001.`
          : `The WebSocket endpoint (\`GET ${wsPath}\`). Authentication is off: each connection is its own user.`,
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            ...(auth ? { query: { type: 'object', properties: { token: { type: 'string', description: 'The JWT that authenticates the connection (its `sub` claim is the user id).' } } } } : {}),
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations,
    components: { messages },
    'x-error-codes': errorCodesExtension(),
    'x-close-codes': closeCodesExtension(),
  }
  if (Object.keys(components).length > 0) document.components.schemas = components
  if (auth) {
    document.components.securitySchemes = {
      jwt: { type: 'httpApiKey', name: 'token', in: 'query', description: 'A JWT (HS256 by default) in the `token` query parameter of the upgrade request.' },
    }
  }
  return document
}
