'use strict'
/** `src/client.ts` of the generated package: one typed method per message. */
const { tsdoc } = require('./tsdoc.cjs')
const { header } = require('./render-protocol.cjs')

const THROWS = [
  '@throws {@link ServerError} when the server answers with an `error` frame (`code` is an {@link ErrorCode}).',
  '@throws {@link RequestTimeoutError} when no reply arrives within the request timeout.',
  '@throws {@link DisconnectedError} when the connection drops while the request is in flight.',
  '@throws {@link QueueFullError} when offline and the queue is full; {@link QueueTimeoutError} when no connection came within the queue timeout (not sent).',
  '@throws {@link ClientClosedError} when the client has stopped.',
]

function sendMethod (m) {
  const replies = m.reply === 'ack'
    ? `Resolves when the server acknowledges it (\`ack\`).`
    : `Resolves with the payload of the reply, \`${m.reply}\`.`
  const param = m.payloadOptional ? `payload: ${m.typeName} = {}` : `payload: ${m.typeName}`
  const doc = tsdoc([
    m.summary ?? `Send \`${m.type}\`.`,
    m.description === undefined ? undefined : '\n' + m.description,
    '',
    `Sends \`${m.type}\`. ${replies} Queued while offline.`,
    m.deprecated ? '@deprecated' : undefined,
    `@param payload - the \`${m.type}\` payload.`,
    '@param options - per-request options (reply and queue timeouts).',
    ...THROWS,
  ], '  ')
  return `${doc}
  ${m.method} (${param}, options?: RequestOptions): Promise<${m.replyTypeName}> {
    return this.request(${JSON.stringify(m.type)}, payload, ${JSON.stringify(m.reply)}, options) as Promise<${m.replyTypeName}>
  }
`
}

function onMethod (m) {
  const notes = []
  if (m.room) notes.push(`Delivered to room members: \`meta.room\` names the room${m.durable ? ', `meta.seq` orders durable deliveries' : ''}.`)
  const doc = tsdoc([
    m.summary ?? `Receive \`${m.type}\`.`,
    m.description === undefined ? undefined : '\n' + m.description,
    '',
    `Calls \`handler\` with every \`${m.type}\` frame (replies to this client's requests included). ${notes.join(' ')}`.trim(),
    m.deprecated ? '@deprecated' : undefined,
    '@returns the function that removes the handler.',
  ], '  ')
  return `${doc}
  ${m.method} (handler: MessageHandler<${m.typeName}>): () => void {
    return this.subscribe(${JSON.stringify(m.type)}, handler)
  }
`
}

/** With a presence state (`set_presence` and `presence_updated` in the document): typed shortcuts over it. */
function presenceMethods (model) {
  const set = model.client.find((m) => m.type === 'set_presence')
  const updated = model.server.find((m) => m.type === 'presence_updated')
  if (set === undefined || updated === undefined) return ''
  const setDoc = tsdoc([
    'Set this connection\'s presence state in a joined room (`set_presence`). The room hears',
    '`presence_updated` when your state changes; after a reconnect the client sets it again in each re-joined room.',
    '@param room - a room this client joined.',
    '@param state - the state, as the server\'s presence schema types it.',
    ...THROWS,
  ], '  ')
  const membersDoc = tsdoc([
    'Who is in a joined room, with each member\'s presence state (`presence`), as the server reported it.',
    'See {@link ClientCore.members}.',
  ], '  ')
  return `
  // ── presence state ──

${setDoc}
  setPresence (room: string, state: ${set.typeName}['state'], options?: RequestOptions): Promise<void> {
    return this.${set.method}({ room, state }, options)
  }

${membersDoc}
  override members (room: string): MembersView<Exclude<${updated.typeName}['state'], undefined>> | undefined {
    return super.members(room) as MembersView<Exclude<${updated.typeName}['state'], undefined>> | undefined
  }
`
}

function renderClient (model) {
  const types = [...new Set([...model.client.map((m) => m.typeName), ...model.server.map((m) => m.typeName)])].sort()
  return `${header(model)}
import { ClientCore, type ClientOptions, ${presenceMethods(model) === '' ? '' : 'type MembersView, '}type MessageHandler, type RequestOptions } from './runtime/core.mjs'
// Types named in the doc comments ({@link …}).
import type { ClientClosedError, DisconnectedError, QueueFullError, QueueTimeoutError, RequestTimeoutError, ServerError } from './runtime/errors.mjs'
import { serverLimits, shouldReconnect, type ErrorCode, ${types.map((t) => 'type ' + t).join(', ')} } from './protocol.js'

${tsdoc([
  `Typed client of "${model.title}" ${model.version}.`,
  '',
  '`send…` methods send one client → server message each and resolve with its reply;',
  '`on…` methods subscribe to one server → client message each. Create it with {@link createClient}.',
])}
export class RealtimeClient extends ClientCore {
  constructor (options: ClientOptions) {
    super(options, { shouldReconnect, limits: serverLimits })
  }

  // ── client → server ──

${model.client.map(sendMethod).join('\n')}
  // ── server → client ──

${model.server.map(onMethod).join('\n')}${presenceMethods(model)}}

${tsdoc([
  'Create a client. It connects on the first `send…` (or `connect()`), re-joins its rooms after',
  'every reconnect and queues sends while offline.',
  '',
  '@example',
  '```ts',
  `const client = createClient({ url: 'ws://127.0.0.1:3000/ws', token: () => getToken() })`,
  `client.onMessage((message, { room }) => console.log(room, message))`,
  `await client.sendJoinRoom({ room: 'general' })`,
  '```',
])}
export function createClient (options: ClientOptions): RealtimeClient {
  return new RealtimeClient(options)
}
`
}

module.exports = { renderClient }
