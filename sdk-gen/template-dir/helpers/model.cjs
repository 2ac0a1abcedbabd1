'use strict'
/**
 * The one place where the AsyncAPI document becomes the client's API: wire type → method name,
 * payload type name, reply, code tables. The template renders from this model; the CLI builds it
 * first so a bad document fails with a clear error before anything is written.
 *
 * Reads the document as the server publishes it (see the contract): client → server messages are
 * the server's `receive` operations, server → client ones its `send` operations; message keys are
 * `client.<type>` / `server.<type>`, `name` is the wire type. Frames and payloads may be inline or
 * named components (`ClientJoinRoomFrame` → `ClientJoinRoomPayload`): a named payload prints as
 * the message's payload type (`ClientJoinRoomPayload`), frames are not types of their own, and the
 * error code enum is the client's `ErrorCode`.
 */
const { schemaToTs } = require('./schema-to-ts.cjs')
// The protocol module (lib/protocol/), compiled into the template's private copy by sdk-gen before
// each run (sdk-gen/protocol-copy.ts): the name rule and the method names are the server's own.
const { MESSAGE_NAME_PATTERN, RUNTIME_MESSAGES, ClientMessage, ServerMessage, pascalCase, sendMethodName, onMethodName } = require('./protocol/index.js')

/** Built-in messages the client runtime itself relies on (rooms, heartbeat, token refresh, replies). */
const REQUIRED_BUILTINS = RUNTIME_MESSAGES

class SdkModelError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor (code, message) {
    super(message)
    this.name = 'SdkModelError'
    this.code = code
  }
}

function typeIdentifier (name) {
  const cleaned = String(name).replace(/[^A-Za-z0-9_$]+/g, '_').replace(/^([0-9])/, '_$1')
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1)
}

function extension (message, name) {
  const ext = message.extensions().get(name)
  return ext === undefined ? undefined : ext.value()
}

function text (value) {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/**
 * @param {any} asyncapi a parsed AsyncAPI 3 document (Parser API v3)
 */
function buildModel (asyncapi) {
  const json = asyncapi.json()
  const componentSchemas = json.components !== undefined && json.components.schemas !== undefined ? json.components.schemas : {}
  const named = new Map()
  const reserved = new Set(['RealtimeClient', 'ClientOptions', 'EventMeta', 'ErrorCode', 'CloseCodeNumber', 'ClientMessages', 'ServerMessages'])
  const protocolSchemas = messageSchemaNames(asyncapi, Object.keys(objectExtension(asyncapi, 'x-error-codes')))
  for (const [key, name] of protocolSchemas) {
    if (name !== undefined) named.set(key, name)
  }
  for (const key of Object.keys(componentSchemas)) {
    if (protocolSchemas.has(key)) continue
    let name = typeIdentifier(key)
    while (reserved.has(name) || /^(Client|Server)[A-Z]/.test(name)) name = 'Schema' + name
    reserved.add(name)
    named.set(key, name)
  }

  const client = []
  const server = []
  const seen = new Map()
  for (const message of asyncapi.messages().all()) {
    const key = message.id()
    const type = message.name() ?? key.replace(/^(client|server)\./, '')
    const direction = extension(message, 'x-direction') ??
      (key.startsWith('client.') ? 'client-to-server' : key.startsWith('server.') ? 'server-to-client' : undefined)
    if (direction !== 'client-to-server' && direction !== 'server-to-client') {
      throw new SdkModelError('SDK_ERR_DIRECTION', `Message "${key}" has no direction: set "x-direction" to "client-to-server" or "server-to-client" (or key it "client.<type>" / "server.<type>")`)
    }
    if (typeof type !== 'string' || !MESSAGE_NAME_PATTERN.test(type)) {
      throw new SdkModelError('SDK_ERR_MESSAGE_NAME',
        `Message "${key}" has name ${JSON.stringify(type)}, which cannot become a method name: it must be lower snake_case (${MESSAGE_NAME_PATTERN.source}), e.g. "${ClientMessage.JoinRoom}" → ${direction === 'client-to-server' ? sendMethodName(ClientMessage.JoinRoom) : onMethodName(ClientMessage.JoinRoom)}()`)
    }
    const pascal = pascalCase(type)
    const method = direction === 'client-to-server' ? sendMethodName(type) : onMethodName(type)
    const clash = seen.get(method)
    if (clash !== undefined) {
      throw new SdkModelError('SDK_ERR_METHOD_CLASH', `Messages "${clash}" and "${key}" both map to the method ${method}(): rename one of them`)
    }
    seen.set(method, key)

    const frame = message.payload() === undefined ? {} : message.payload().json()
    const payloadSchema = frame !== null && typeof frame === 'object' && frame.properties !== undefined ? frame.properties.payload : undefined
    const typeName = (direction === 'client-to-server' ? 'Client' : 'Server') + pascal + 'Payload'
    const entry = {
      key,
      type,
      pascal,
      method,
      typeName,
      title: text(message.title()) ?? pascal,
      summary: text(message.summary()),
      description: text(message.description()),
      payloadType: payloadSchema === undefined ? 'Record<string, never>' : schemaToTs(payloadSchema, { named, root: payloadSchema }, ''),
      /** Whether the payload argument may be left out (no required property). */
      payloadOptional: payloadSchema === undefined || !(Array.isArray(payloadSchema.required) && payloadSchema.required.length > 0),
      deprecated: message.json().deprecated === true,
    }
    if (direction === 'client-to-server') {
      client.push({ ...entry, reply: String(extension(message, 'x-reply') ?? replyFromOperations(asyncapi, key) ?? ServerMessage.Ack) })
    } else {
      server.push({ ...entry, durable: extension(message, 'x-durable') === true, room: extension(message, 'x-room') === true })
    }
  }

  const serverTypes = new Map(server.map((m) => [m.type, m]))
  for (const message of client) {
    const reply = serverTypes.get(message.reply)
    if (reply === undefined) {
      throw new SdkModelError('SDK_ERR_UNKNOWN_REPLY', `Message "${message.key}" declares reply "${message.reply}", which is not a server → client message of the document`)
    }
    message.replyTypeName = message.reply === ServerMessage.Ack ? 'void' : reply.typeName
  }
  const clientTypes = new Set(client.map((m) => m.type))
  for (const [side, types] of Object.entries(REQUIRED_BUILTINS)) {
    for (const type of types) {
      if (!(side === 'client' ? clientTypes.has(type) : serverTypes.has(type))) {
        throw new SdkModelError('SDK_ERR_NOT_A_WS_ROOMS_DOCUMENT', `The document has no ${side === 'client' ? 'client → server' : 'server → client'} message "${type}": the client runtime needs the built-in messages of fastify-ws-rooms (${[...REQUIRED_BUILTINS.client, ...REQUIRED_BUILTINS.server].join(', ')})`)
      }
    }
  }

  const schemas = [...named].filter(([key]) => !protocolSchemas.has(key)).map(([key, name]) => {
    const schema = componentSchemas[key]
    return { key, name, description: text(schema && schema.description), type: schemaToTs(schema, { named, root: schema }, '') }
  })

  const info = asyncapi.info()
  const channel = asyncapi.channels().all()[0]
  const firstServer = asyncapi.servers().all()[0]
  return {
    // Both land in line comments of generated code: one line, or a crafted title injects code.
    title: oneLine(info.title()),
    version: oneLine(info.version()),
    description: text(info.description()),
    // The WebSocket path: the server's `pathname` when the document declares one, else the channel address.
    address: (firstServer !== undefined && firstServer.hasPathname() ? firstServer.pathname() : undefined) ?? (channel === undefined ? undefined : channel.address() ?? undefined),
    client,
    server,
    schemas,
    errorCodes: Object.entries(objectExtension(asyncapi, 'x-error-codes')).map(([code, value]) => ({ code, description: text(value && value.description) ?? '' })),
    limits: limitsOf(objectExtension(asyncapi, 'x-limits')),
    closeCodes: Object.entries(objectExtension(asyncapi, 'x-close-codes')).map(([code, value]) => ({
      code: Number(code),
      name: String((value && value.name) ?? code),
      reconnect: Boolean(value && value.reconnect),
      description: text(value && value.description) ?? '',
    })).filter((row) => Number.isInteger(row.code)),
  }
}

/**
 * Component schemas that are part of the message layer, by component key: a frame (→ undefined:
 * never a type of its own), its payload (→ the message's payload type name), and the enum of the
 * error codes (→ `ErrorCode`, which the client declares from `x-error-codes`).
 */
function messageSchemaNames (asyncapi, errorCodes) {
  const out = new Map()
  for (const message of asyncapi.messages().all()) {
    const frame = message.payload() === undefined ? undefined : message.payload().json()
    if (frame === null || typeof frame !== 'object') continue
    const frameId = frame['x-parser-schema-id']
    const payload = frame.properties !== undefined ? frame.properties.payload : undefined
    const key = message.id()
    const type = message.name() ?? key.replace(/^(client|server)\./, '')
    const client = (extension(message, 'x-direction') ?? (key.startsWith('client.') ? 'client-to-server' : '')) === 'client-to-server'
    if (isComponentId(frameId)) out.set(frameId, undefined)
    if (payload !== null && typeof payload === 'object' && isComponentId(payload['x-parser-schema-id'])) {
      out.set(payload['x-parser-schema-id'], (client ? 'Client' : 'Server') + pascalCase(String(type)) + 'Payload')
      const code = payload.properties !== undefined ? payload.properties.code : undefined
      if (type === 'error' && code !== null && typeof code === 'object' && isComponentId(code['x-parser-schema-id']) &&
        Array.isArray(code.enum) && code.enum.length === errorCodes.length && code.enum.every((c) => errorCodes.includes(c))) {
        out.set(code['x-parser-schema-id'], 'ErrorCode')
      }
    }
  }
  return out
}

/** The parser names inline schemas `<anonymous-schema-N>`; component schemas keep their key. */
function isComponentId (id) {
  return typeof id === 'string' && !id.startsWith('<anonymous')
}

function objectExtension (asyncapi, name) {
  const ext = asyncapi.extensions().get(name)
  const value = ext === undefined ? undefined : ext.value()
  return value !== null && typeof value === 'object' ? value : {}
}

/** The reply of a request from its operation's `reply`, when the message lacks `x-reply`. */
function replyFromOperations (asyncapi, key) {
  for (const operation of asyncapi.operations().all()) {
    if (!operation.messages().all().some((m) => m.id() === key)) continue
    const reply = operation.reply()
    const message = reply === undefined ? undefined : reply.messages().all()[0]
    if (message !== undefined) return message.name() ?? message.id().replace(/^server\./, '')
  }
  return undefined
}

/** `x-limits` as the client paces by it; undefined when the document publishes none (or not in this shape). */
function limitsOf (limits) {
  const count = (value) => Number.isFinite(value) && value >= 0 ? Number(value) : undefined
  const rate = limits.rateLimit
  const rateLimit = rate === false
    ? false
    : rate !== null && typeof rate === 'object' && count(rate.perSecond) > 0 && count(rate.burst) > 0
      ? { perSecond: count(rate.perSecond), burst: count(rate.burst), closeAfter: count(rate.closeAfter) ?? 0 }
      : undefined
  if (rateLimit === undefined) return undefined
  return {
    rateLimit,
    joinAllowance: count(limits.joinAllowance) ?? 0,
    maxRoomsPerConnection: count(limits.maxRoomsPerConnection) ?? 0,
    maxPayload: count(limits.maxPayload) ?? 0,
  }
}

function oneLine (value) {
  return String(value).replace(/[\r\n\u2028\u2029]+/g, ' ').slice(0, 200)
}

module.exports = { buildModel, pascalCase, SdkModelError, MESSAGE_NAME_PATTERN, REQUIRED_BUILTINS }
