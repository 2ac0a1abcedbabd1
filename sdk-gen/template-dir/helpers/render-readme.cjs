'use strict'
/** README.md of the generated package: usage, options, every method with its payload type. */

function cell (text) {
  return String(text ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')
}

/** The paragraph on the server's own membership changes, when the document declares them. */
function serverControl (model) {
  if (!model.server.some((m) => m.type === 'room_added')) return ''
  return `
Rooms the server adds this connection to (\`room_added\`) are tracked and re-joined the same way; a room
it removes the connection from (\`room_removed\`, with a reason) is forgotten and not joined again.`
}

/** The paragraph on presence state, when the document declares one. */
function presenceState (model) {
  if (!model.client.some((m) => m.type === 'set_presence')) return ''
  return `
Presence state: \`setPresence(room, state)\` sets this connection's state in a joined room (typed by the
server's schema); \`members(room).presence\` holds each member's state, kept current from \`presence_updated\`.
A user's state is the one most recently set by any of their connections in the room. After a reconnect
the client sets its last state again in each re-joined room.`
}

function renderReadme (model, packageName) {
  const sends = model.client.map((m) =>
    `| \`${m.method}(payload${m.payloadOptional ? '?' : ''}: ${m.typeName})\` | \`${m.type}\` | \`Promise<${m.replyTypeName}>\`${m.reply === 'ack' ? ' (on `ack`)' : ` (\`${m.reply}\`)`} | ${cell(m.summary)} |`)
  const ons = model.server.map((m) =>
    `| \`${m.method}(handler: (payload: ${m.typeName}, meta) => void)\` | \`${m.type}\` | ${m.room ? 'room' : 'direct'}${m.durable ? ', durable (`seq`)' : ''} | ${cell(m.summary)} |`)
  const types = [...model.schemas.map((s) => ({ name: s.name, type: s.type })),
    ...model.client.map((m) => ({ name: m.typeName, type: m.payloadType })),
    ...model.server.map((m) => ({ name: m.typeName, type: m.payloadType }))]
  return `# ${packageName}

Typed, resilient WebSocket client for **${model.title}** ${model.version}, generated from its AsyncAPI
document by \`fastify-ws-rooms-sdk\` (the bin of fastify-ws-rooms). Do not edit: regenerate.

Zero runtime dependencies. Runs in browsers and in Node ≥ 22 (global \`WebSocket\`); on Node 20 pass
an implementation such as \`ws\`.

\`\`\`ts
import { createClient, ServerError } from '${packageName}'

const client = createClient({
  url: 'ws://127.0.0.1:3000${model.address ?? '/ws'}',
  token: async () => (await fetch('/api/token')).text(), // called before every (re)connect
})
client.on('state', ({ state }) => console.log('connection:', state))
client.onMessage((message, { room }) => console.log(room, message))
await client.sendJoinRoom({ room: 'general' })
try {
  await client.sendMessage({ room: 'general', content: 'Hello!' })
} catch (error) {
  if (error instanceof ServerError) console.log(error.code) // e.g. 'not_in_room'
}
\`\`\`

## Methods: client → server

Each resolves with the reply's payload; rejects with \`ServerError\` (\`code\`), \`RequestTimeoutError\`,
\`DisconnectedError\` (connection lost in flight), \`QueueFullError\`, \`QueueTimeoutError\` (offline too
long: not sent) or \`ClientClosedError\`. Every method takes an optional second argument
\`{ timeoutMs, queueTimeoutMs }\` that overrides the client's timeouts for that send.

| method | wire type | returns | summary |
|---|---|---|---|
${sends.join('\n')}

## Methods: server → client

\`meta\` is \`{ type, room?, seq?, id? }\`. Each returns the function that removes the handler.

| method | wire type | delivery | summary |
|---|---|---|---|
${ons.join('\n')}

## Options of \`createClient\`

| option | default | meaning |
|---|---|---|
| \`url\` | (required) | Full WebSocket URL. |
| \`token\` | none | JWT string, or a function called before every (re)connect and refresh. If it throws or does not settle within \`connectTimeoutMs\`, the attempt fails and is retried with backoff (\`error\` event, context \`token\`); only after a 4001 does that stop the client. |
| \`WebSocket\` | \`globalThis.WebSocket\` | WebSocket implementation (e.g. \`ws\`). |
| \`reconnect\` | \`randomisedExponentialBackoff()\` | Retry policy; \`false\` never retries. Default: full jitter, 500 ms doubling to a 30 s cap, forever, reset after 10 s of stable connection. |
| \`shouldReconnect\` | \`shouldReconnect\` | Which close codes are retried (from the table below; unknown codes are). |
| \`heartbeat\` | \`{ idleMs: 15000, timeoutMs: 10000 }\` | \`ping\` after idleMs of silence; no \`pong\` in timeoutMs → reconnect. \`false\` disables. |
| \`tokenRefresh\` | \`{ beforeExpiryMs: 60000 }\` | \`refresh_token\` before \`expiresAt\` (token function only). \`false\` disables. |
| \`requestTimeoutMs\` | \`10000\` | Reply timeout, counted from sending. |
| \`connectTimeoutMs\` | \`10000\` | Time allowed to open a connection, token function included. |
| \`queueSize\` | \`100\` | Sends held while offline; beyond it \`QueueFullError\`. |
| \`queueTimeoutMs\` | \`30000\` | How long a send may wait offline (or for its turn under \`pacing\`); then \`QueueTimeoutError\`, not sent. \`Infinity\`: until the client stops. |
| \`pacing\` | 80 % of the server's published rate limit (\`serverLimits\`), plus its join allowance | \`{ perSecond, burst, joinAllowance? }\`: sends wait their turn within the server's rate limit instead of being refused or closed for flooding. \`false\` sends at once. |
| \`lazy\` | \`true\` | Connect on first send / \`connect()\`. |
| \`reconnectOnWake\` | \`true\` | Browsers: retry at once on \`online\` / page visible. |
| \`generateId\` | counter | Request ids. |

## Connection

\`client.state\`: \`idle\` → \`connecting\` → \`open\` ⇄ \`reconnecting\`; terminal \`closed\` or \`unauthorized\`.
Events (\`client.on(event, listener)\`): \`state\`, \`connecting\`, \`open\`, \`reconnecting\` (attempt, delayMs),
\`disconnected\`, \`closed\` (code, reason), \`unauthorized\`, \`rejoined\` (room, recovered), \`rejoinFailed\`,
\`tokenRefreshed\`, \`error\`.

Rooms joined with \`sendJoinRoom\` are joined again after every reconnect with \`since\` = the last \`seq\`
seen; \`rejoined.recovered\` says whether the server replayed everything missed. \`rejoined\` fires before
the replayed messages reach the \`on…\` handlers, which then get each missed message once, in \`seq\`
order, then live ones; when \`recovered\` is false, reload the room's history. \`rejoined\` with
\`recovered: false\` also fires while connected when the server restarts a room's stream (its backend lost
data): messages may be lost, and the room goes on from the new \`seq\`. A re-join the server
refuses (e.g. \`forbidden\`) emits \`rejoinFailed { room, error }\` and the room is no longer tracked; one
that times out or is refused for a passing reason (\`rate_limited\`, \`unavailable\`…) is tried again.${serverControl(model)}${presenceState(model)}

Sends made while offline wait in the queue (at most \`queueSize\`, each at most \`queueTimeoutMs\`) and
go out, in order, after the re-joins, paced within the server's limits. After a close whose reason
names a delay (\`…; retry after 2500 ms\`, e.g. 4029) the client waits at least that long. In browsers, the page coming back \`online\` or visible cuts a
pending backoff delay short and reconnects at once.

### Close codes

| code | name | reconnect | meaning |
|---|---|---|---|
${model.closeCodes.map((row) => `| ${row.code} | \`${row.name}\` | ${row.reconnect ? 'yes' : 'no'} | ${cell(row.description)} |`).join('\n')}

After 4001 a token *function* is asked once more; if that connection is refused too, the client stops
in state \`unauthorized\`.

### Error codes

| code | meaning |
|---|---|
${model.errorCodes.map((row) => `| \`${row.code}\` | ${cell(row.description)} |`).join('\n')}

## Payload types

${types.map((t) => '```ts\ntype ' + t.name + ' = ' + t.type + '\n```').join('\n\n')}
`
}

module.exports = { renderReadme }
