/**
 * `src/app.ts` of a generated package with a REST half: the root `AppClient` (one typed method per
 * OpenAPI operation, and — when there is an AsyncAPI document — today's real-time client, which it
 * extends) and the `createClient` that picks the root client from its options.
 */
import type { RestModel, RestOperation } from './openapi.js'

export interface RealtimeSide {
  /** The WebSocket route (the AsyncAPI channel address), e.g. `/ws`. */
  address: string
  /** Method names of the real-time half (`sendJoinRoom`, `onMessage`…). */
  methods: string[]
}

/** Public members of the real-time client and of the root client: REST methods must not take them. */
export const RESERVED_MEMBERS = ['state', 'session', 'rooms', 'on', 'connect', 'close', 'request', 'subscribe', 'constructor', 'baseUrl', 'token']

function tsdoc (lines: Array<string | undefined>, indent: string): string {
  const body = lines.filter((line): line is string => line !== undefined)
    .flatMap((line) => line.split('\n'))
    .map((line) => `${indent} *${line === '' ? '' : ' ' + line.replaceAll('*/', '*\\/')}`)
  return `${indent}/**\n${body.join('\n')}\n${indent} */`
}

function pascal (name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1)
}

function restMethod (op: RestOperation): string {
  const response = op.responseType ?? 'unknown'
  const doc = tsdoc([
    ...(op.summary === undefined ? [] : [op.summary, '']),
    ...(op.description === undefined ? [] : [op.description, '']),
    `\`${op.httpMethod} ${op.path}\`${op.secured ? ', sent with the token (`Authorization: Bearer`); after a 401 the token is refreshed once (shared with the socket) and the request retried.' : '.'}`,
    op.deprecated ? '@deprecated' : undefined,
    '@param args - `path`, `query` and `body` as the document types them; `signal` to cancel; extra `headers`.',
    `@throws {@link HttpError} on a non-2xx status (see {@link ${pascal(op.method)}HttpError}); {@link NetworkError} without a response; the \`AbortError\` when aborted.`,
  ], '  ')
  return `${doc}
  ${op.method} (...args: ArgsOf<${op.dataType}>): Promise<${response}> {
    return callOperation(this.#rest, ${JSON.stringify(op.method)}, rest.${op.method}, args[0]) as Promise<${response}>
  }
`
}

export function renderApp (model: RestModel, realtime: RealtimeSide | undefined): string {
  const types = [...new Set(model.operations.flatMap((op) => [op.dataType, op.responseType, op.errorsType]).filter((t): t is string => t !== undefined))].sort()
  const errorAliases = model.operations.map((op) =>
    `/** The documented error responses of \`${op.method}\`, narrowed by \`status\`. */\nexport type ${pascal(op.method)}HttpError = ${op.errorsType === undefined ? 'HttpError' : `HttpErrorOf<${op.errorsType}>`}`)
  const realtimeImports = realtime === undefined
    ? ''
    : `import { RealtimeClient } from './client.js'
import type { ClientOptions } from './runtime/core.mjs'
`
  const optionsBase = realtime === undefined ? '' : ` extends Omit<ClientOptions, 'url' | 'token'>`
  const socketOptions = realtime === undefined
    ? ''
    : `
  /**
   * The WebSocket URL.
   * @default baseUrl with ws:// or wss:// and the WebSocket route ${JSON.stringify(realtime.address)}
   */
  url?: string`
  const constructorBody = realtime === undefined
    ? `    const tokens = new TokenSource(options.token)
    this.#rest = restContext(options, tokens)`
    : `    const { baseUrl, token, fetch: _fetch, url, ...socketOptions } = options
    const tokens = new TokenSource(token)
    const socket: SocketTokenState = { client: undefined, refused: false, last: undefined }
    super({
      ...socketOptions,
      url: url ?? websocketUrl(baseUrl, WEBSOCKET_PATH),
      ...(token === undefined ? {} : { token: typeof token === 'function' ? () => socketToken(tokens, socket) : token }),
    })
    socket.client = this
    // The close code tells the next token request that the token was refused, not merely reused.
    this.on('disconnected', ({ code }) => { if (code === 4001) socket.refused = true })
    this.#rest = restContext(options, tokens)`
  const socketHelpers = realtime === undefined
    ? ''
    : `
const WEBSOCKET_PATH = ${JSON.stringify(realtime.address)}

/** \`http://host:3000/api\` + \`/ws\` → \`ws://host:3000/api/ws\`. */
function websocketUrl (baseUrl: string, path: string): string {
  const url = new URL(baseUrl.replace(/\\/+$/, '') + path)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.href
}

interface SocketTokenState {
  client: RealtimeClient | undefined
  /** The last connection was closed with 4001 (token refused). */
  refused: boolean
  /** The token the socket last used. */
  last: string | undefined
}

/**
 * The real-time half's token function: a (re)connect reuses the shared token, unless the server
 * refused it (4001); a refresh on the open connection (expiry) asks for a fresh one. Either way the
 * token source asks the app's function once for the socket and the REST half together.
 */
async function socketToken (tokens: TokenSource, state: SocketTokenState): Promise<string> {
  const stale = state.client?.state === 'open' || state.refused
  state.refused = false
  const token = stale ? await tokens.refresh(state.last) : await tokens.current()
  state.last = token
  return token ?? ''
}
`
  const clientClass = realtime === undefined ? 'AppClient' : 'AppClient extends RealtimeClient'
  const factory = realtime === undefined
    ? `${tsdoc(['Create the client of the app: `baseUrl` and `token` serve every REST call.'], '')}
export function createClient (options: AppClientOptions): AppClient {
  return new AppClient(options)
}`
    : `${tsdoc([
      'Create the client of the app. With `baseUrl`: one client for REST and real time, sharing the',
      'base URL, the token and its refresh. With `url` (a ws:// URL): the real-time client alone, as before.',
      '',
      '@example',
      '```ts',
      `const client = createClient({ baseUrl: 'http://127.0.0.1:3000', token: () => getToken() })`,
      '```',
    ], '')}
export function createClient (options: AppClientOptions): AppClient
export function createClient (options: ClientOptions): RealtimeClient
export function createClient (options: AppClientOptions | ClientOptions): RealtimeClient {
  return 'baseUrl' in options ? new AppClient(options) : new RealtimeClient(options)
}`
  return `// Generated by fastify-ws-rooms sdk-gen from the OpenAPI document "${oneLine(model.title)}" ${oneLine(model.version)}. Do not edit.
${realtimeImports}import { callOperation, HttpError, NetworkError, type ArgsOf, type HttpErrorOf, type RestContext } from './app-runtime/rest.js'
import { TokenSource, type AppTokenProvider } from './app-runtime/token-source.js'
import { createClient as createFetchClient, createConfig } from './rest/client/index.js'
import * as rest from './rest/sdk.gen.js'
import type { ${types.join(', ')} } from './rest/types.gen.js'

export { HttpError, NetworkError }

export interface AppClientOptions${optionsBase} {
  /** Where the app is served, e.g. \`https://chat.example.com\`: REST paths are appended to it${realtime === undefined ? '' : ', and the WebSocket URL is derived from it'}. */
  baseUrl: string
  /**
   * The JWT: a string, or a function asked once at first use and once per refresh — a 401 on a REST
   * call${realtime === undefined ? '' : ', a 4001 close or the token\'s expiry on the socket'}: one call serves every request waiting for it.
   * @default undefined (no token)
   */
  token?: string | AppTokenProvider
  /**
   * The fetch implementation.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch${socketOptions}
}

${errorAliases.join('\n')}

function restContext (options: AppClientOptions, tokens: TokenSource): RestContext {
  const config = createConfig({ baseUrl: options.baseUrl.replace(/\\/+$/, '') })
  if (options.fetch !== undefined) config.fetch = options.fetch
  return { client: createFetchClient(config), tokens }
}
${socketHelpers}
${tsdoc([
  `The client of "${oneLine(model.title)}": one method per REST operation${realtime === undefined ? '' : ', and the real-time client\'s `send…`/`on…` methods'}.`,
  'Create it with {@link createClient}.',
], '')}
export class ${clientClass} {
  readonly #rest: RestContext

  constructor (options: AppClientOptions) {
${constructorBody}
  }

  // ── REST (${model.operations.length} operations) ──

${model.operations.map(restMethod).join('\n')}}

${factory}
`
}

function oneLine (value: string): string {
  return value.replace(/[\r\n\u2028\u2029]+/g, ' ').slice(0, 200)
}
