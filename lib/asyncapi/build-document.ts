/**
 * Catalog + options → the AsyncAPI 3.0.0 document, from the server's view. Follows the contract
 * shared with the SDK generator (one `ws` channel, `client.<type>` / `server.<type>` keys,
 * whole-frame payloads, `x-` extensions), and the shape third-party tools need: every frame and
 * payload a named schema (`Client<Type>Frame`, `Client<Type>Payload`…), a `discriminator` on
 * `type`, `correlationId` on the request id, the error code an `enum`, the WebSocket path in each
 * server's `pathname`. Pure: the same inputs give the same document. `client-view.ts` derives the
 * client's view from it.
 */
import { builtinServerMessages } from '../../schemas/builtin.js'
import type { Catalog } from '../catalog.js'
import type { ClientMessageDef, ServerMessageDef } from '../define.js'
import { WsRegistrationError } from '../errors.js'
import { closeCodesExtension, codesMarkdown, ERROR_CODE_SCHEMA, errorCodeSchema, errorCodesExtension, type ErrorCodeTable } from './codes.js'
import { clientFrameExamples, payloadExamples, serverFrameExamples } from './examples.js'
import { clientFrameSchema, serverFrameSchema } from './frame-schema.js'
import { documentInfo, TAGS, type DocumentInfo, type TagName } from './info.js'
import { messageKey, operationId, titleOf, type Direction } from './names.js'
import type { ServerLimits } from '../protocol/limits.js'
import { pascalCase, PresenceMessage } from '../protocol/names.js'
import type { AsyncApiServer, ResolvedAsyncApiOptions } from './options.js'
import { sanitizeSchema, titleInlineSchemas, type JsonSchema, type SchemaComponents } from './sanitize-schema.js'

export const ASYNCAPI_VERSION = '3.0.0'
const CHANNEL = 'ws'
const CHANNEL_REF = `#/channels/${CHANNEL}`
const JWT_REF = '#/components/securitySchemes/jwt'
const SCHEMA_REF = '#/components/schemas/'
const REQUEST_ID_REF = '#/components/correlationIds/requestId'

/** The AsyncAPI document as plain JSON data. */
export interface AsyncApiDocument {
  asyncapi: typeof ASYNCAPI_VERSION
  info: DocumentInfo
  servers?: Record<string, Record<string, unknown>>
  defaultContentType: string
  channels: Record<string, Record<string, unknown>>
  operations: Record<string, Record<string, unknown>>
  components: {
    messages: Record<string, Record<string, unknown>>
    schemas: SchemaComponents
    correlationIds: Record<string, { description: string, location: string }>
    securitySchemes?: Record<string, unknown>
  }
  /** Which side's view: `send`/`receive` are the server's (`asyncapi.yaml`) or the client's (`asyncapi.client.yaml`). */
  'x-view': 'server' | 'client'
  'x-error-codes': Record<string, { description: string }>
  'x-close-codes': Record<string, { name: string, reconnect: boolean, description: string }>
  /** Where the app's OpenAPI document (its HTTP routes) is served, when `asyncapi.openapi` names it. */
  'x-openapi'?: string
  /** What one connection may send (rate limit, join allowance, room cap): generated clients pace themselves within it. */
  'x-limits'?: ServerLimits
}

export interface DocumentSource {
  catalog: Catalog
  /** The WebSocket route, e.g. `/ws`: the channel address. */
  wsPath: string
  /** Whether connections need a JWT (`token` query parameter). */
  auth: boolean
  options: ResolvedAsyncApiOptions
  /** The server's limits, published as `x-limits`. */
  limits?: ServerLimits
}

/** The first paragraph of the conventions: the only one that differs between the two views. */
export const SERVER_VIEW = 'This document is written from the **server\'s perspective**: `receive` operations are the messages clients send to the server, `send` operations are the messages the server sends to clients. The same protocol from the client\'s perspective (for client generators) is published beside it as `asyncapi.client.yaml` / `asyncapi.client.json`.'

const CONVENTION = [
  '## How to read this document',
  '',
  SERVER_VIEW,
  'Message keys carry the direction, because some wire types exist both ways: `client.<type>` (client → server) and `server.<type>` (server → client); each message\'s `name` is its wire `type`.',
  '',
  'Every frame is one JSON object in a WebSocket text frame. Clients send `{"type", "id"?, "payload"}`; a request with an `id` gets exactly one reply carrying the same `id`: its declared reply (operation `reply`, extension `x-reply`), `ack` when none is declared, or `error`.',
  'Every frame is the named schema `Client<Type>Frame` / `Server<Type>Frame` (discriminated by `type`) around its payload `Client<Type>Payload` / `Server<Type>Payload`; requests and replies are correlated by `id` (`correlationId`).',
  'The server sends `{"type", "id"?, "room"?, "seq"?, "payload"}`: `room` on room deliveries (`x-room`), and `seq` on durable ones (`x-durable`: kept in the room\'s history and recoverable with `join_room` `since`).',
].join('\n')

function isRoomDelivery (def: ServerMessageDef): boolean {
  if (!def.builtin || def.name === PresenceMessage.PresenceUpdated) return true // app messages may be broadcast to rooms
  const spec = (builtinServerMessages as Record<string, object>)[def.name]
  return spec !== undefined && 'room' in spec && spec.room === true
}

function describe (def: { name: string, summary: string | undefined, description: string | undefined }): Record<string, string> {
  const out: Record<string, string> = { name: def.name, title: titleOf(def.name), summary: def.summary ?? titleOf(def.name) }
  if (def.description !== undefined) out.description = def.description
  return out
}

/** `Client` / `Server` + `JoinRoom` + `Payload` / `Frame`: the component schema names of a message. */
export function schemaName (direction: Direction, type: string, part: 'Payload' | 'Frame'): string {
  return (direction === 'client' ? 'Client' : 'Server') + pascalCase(type) + part
}

const tag = (name: TagName): { name: string, description: string } => ({ ...TAGS.find((t) => t.name === name)! })

function putSchema (components: SchemaComponents, name: string, schema: JsonSchema, where: string): void {
  const existing = components[name]
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(schema)) {
    throw new WsRegistrationError('WS_ERR_SCHEMA_CONFLICT', `The AsyncAPI document names the schema of ${where} "${name}", which a payload schema already defines: rename that definition`)
  }
  components[name] = schema
}

/** Payload and frame as named components; the frame refers to its payload and is discriminated by `type`. */
function namedFrame (direction: Direction, type: string, frame: JsonSchema, components: SchemaComponents, where: string): { $ref: string } {
  const payloadName = schemaName(direction, type, 'Payload')
  const frameName = schemaName(direction, type, 'Frame')
  const properties = frame.properties as Record<string, JsonSchema>
  putSchema(components, payloadName, { title: payloadName, ...titleInlineSchemas(properties.payload!, payloadName) }, where)
  putSchema(components, frameName, {
    title: frameName,
    ...frame,
    properties: { ...properties, payload: { $ref: SCHEMA_REF + payloadName } },
    discriminator: 'type',
  }, where)
  return { $ref: SCHEMA_REF + frameName }
}

/** The built-in `error` payload's `code`: the enum of the one code table. */
function withErrorCodeEnum (type: string, payload: JsonSchema, components: SchemaComponents, errorCodes: ErrorCodeTable): JsonSchema {
  if (type !== 'error') return payload
  putSchema(components, ERROR_CODE_SCHEMA, errorCodeSchema(errorCodes), 'the error codes')
  const properties = payload.properties as Record<string, JsonSchema>
  return { ...payload, properties: { ...properties, code: { $ref: SCHEMA_REF + ERROR_CODE_SCHEMA } } }
}

function clientMessage (def: ClientMessageDef, components: SchemaComponents): Record<string, unknown> {
  const where = `client message "${def.name}"`
  const frame = clientFrameSchema(def.name, sanitizeSchema(def.payload, components, where))
  return {
    ...describe(def),
    payload: namedFrame('client', def.name, frame, components, where),
    correlationId: { $ref: REQUEST_ID_REF },
    tags: [tag('client-to-server')],
    examples: clientFrameExamples(def.name, payloadExamples(def, 'client')),
    'x-direction': 'client-to-server',
    'x-reply': def.reply ?? 'ack',
  }
}

function serverMessage (def: ServerMessageDef, replies: ReadonlySet<string>, components: SchemaComponents, errorCodes: ErrorCodeTable): Record<string, unknown> {
  const where = `server message "${def.name}"`
  const room = isRoomDelivery(def)
  const isReply = replies.has(def.name)
  const frame = serverFrameSchema(def.name, withErrorCodeEnum(def.name, sanitizeSchema(def.payload, components, where), components, errorCodes))
  return {
    ...describe(def),
    payload: namedFrame('server', def.name, frame, components, where),
    ...(isReply ? { correlationId: { $ref: REQUEST_ID_REF } } : {}),
    tags: [tag('server-to-client')],
    examples: serverFrameExamples(def.name, payloadExamples(def, 'server'), { room, durable: def.durable, reply: isReply }),
    'x-direction': 'server-to-client',
    'x-durable': def.durable,
    'x-room': room,
  }
}

/** A description that reads the same in both views (the client view swaps `send` and `receive`). */
function operationDescription (direction: Direction, def: { name: string, summary: string | undefined, description: string | undefined }, reply?: string): string {
  const what = def.description ?? def.summary ?? titleOf(def.name) + '.'
  return direction === 'client'
    ? `Client → server: \`${def.name}\`. ${what} With an \`id\`, the server answers with \`${reply ?? 'ack'}\` (or \`error\`) carrying that id.`
    : `Server → client: \`${def.name}\`. ${what}`
}

function operation (direction: Direction, def: { name: string, summary: string | undefined, description: string | undefined }, reply?: string): Record<string, unknown> {
  const op: Record<string, unknown> = {
    action: direction === 'client' ? 'receive' : 'send',
    channel: { $ref: CHANNEL_REF },
  }
  if (def.summary !== undefined) op.summary = def.summary
  op.description = operationDescription(direction, def, reply)
  op.tags = [tag(direction === 'client' ? 'client-to-server' : 'server-to-client')]
  op.messages = [{ $ref: `${CHANNEL_REF}/messages/${messageKey(direction, def.name)}` }]
  if (reply !== undefined) {
    op.reply = { channel: { $ref: CHANNEL_REF }, messages: [{ $ref: `${CHANNEL_REF}/messages/${messageKey('server', reply)}` }] }
  }
  return op
}

/**
 * A server object: the WebSocket route appended to its `pathname` (tools that build the URL read
 * only the server), and the JWT scheme when auth is on and the server names no security itself.
 */
export function serverObject (server: AsyncApiServer, wsPath: string, auth: boolean): Record<string, unknown> {
  return {
    ...server,
    pathname: (server.pathname ?? '') + wsPath,
    ...(auth && server.security === undefined ? { security: [{ $ref: JWT_REF }] } : {}),
  }
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
    operations[operationId('client', def.name)] = operation('client', def, def.reply ?? 'ack')
  }
  for (const def of catalog.server.values()) {
    const key = messageKey('server', def.name)
    messages[key] = serverMessage(def, replies, components, catalog.errorCodes)
    channelMessages[key] = { $ref: `#/components/messages/${key}` }
    operations[operationId('server', def.name)] = operation('server', def)
  }

  const description = [options.info.description, CONVENTION, codesMarkdown(catalog.errorCodes)].filter((part) => part !== undefined).join('\n\n')
  const servers = Object.entries(options.servers).map(([name, server]) => [name, serverObject(server, wsPath, auth)] as const)
  const { title, version, contact, license } = options.info
  const document: AsyncApiDocument = {
    asyncapi: ASYNCAPI_VERSION,
    info: documentInfo({ title, version, description, ...(contact === undefined ? {} : { contact }), ...(license === undefined ? {} : { license }), ...openapiDocs(options.openapi) }),
    ...(servers.length > 0 ? { servers: Object.fromEntries(servers) } : {}),
    defaultContentType: 'application/json',
    channels: {
      [CHANNEL]: {
        // The route is each server's `pathname`; a document without servers keeps it here.
        address: servers.length > 0 ? null : wsPath,
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
    components: {
      messages,
      schemas: components,
      correlationIds: {
        requestId: { description: 'The request id: a reply (or `error`) carries the id of the request it answers.', location: '$message.payload#/id' },
      },
    },
    'x-view': 'server',
    'x-error-codes': errorCodesExtension(catalog.errorCodes),
    'x-close-codes': closeCodesExtension(),
    ...(options.openapi === undefined ? {} : { 'x-openapi': options.openapi }),
    ...(source.limits === undefined ? {} : { 'x-limits': source.limits }),
  }
  if (auth) {
    document.components.securitySchemes = {
      jwt: { type: 'httpApiKey', name: 'token', in: 'query', description: 'A JWT (HS256 by default) in the `token` query parameter of the upgrade request.' },
    }
  }
  return document
}

/** `info.externalDocs` needs an absolute URL: a path is linked there only in served documents (`served-document.ts`). */
export function openapiDocs (url: string | undefined): { externalDocs?: { description: string, url: string } } {
  if (url === undefined || url.startsWith('/')) return {}
  return { externalDocs: { description: 'The OpenAPI document of this app\'s HTTP routes (sign-in, room history…), served beside this one.', url } }
}
