/**
 * The `asyncapi` plugin option: its type (with documented defaults) and the check that fails
 * fast at registration.
 */
import { invalidOption } from '../errors.js'
import { licenseFromSpdx, titleFromPackageName, type AsyncApiContact, type AsyncApiLicense } from './info.js'
export type { AsyncApiContact, AsyncApiLicense } from './info.js'
import { checkOptionKeys, type KeyTable } from '../option-keys.js'
import { readPackageInfo } from './package-info.js'


/** An AsyncAPI 3 server object. `security` defaults to the JWT scheme when auth is on. */
export interface AsyncApiServer {
  /** Host and optional port, e.g. `chat.example.com` or `localhost:3000`. */
  host: string
  /** `ws` or `wss`. */
  protocol: 'ws' | 'wss'
  /** Path prefix in front of the WebSocket route, when a proxy mounts the app under one: the document's `pathname` is this prefix plus the route. */
  pathname?: string
  title?: string
  summary?: string
  description?: string
  /** @default [{ $ref: '#/components/securitySchemes/jwt' }] when auth is on */
  security?: unknown[]
}

export interface AsyncApiOptions {
  /**
   * The document's `info`. The protocol conventions, error codes and close codes are appended
   * to `description`.
   * `contact` and `license` are published as given.
   * @default title, version, description, license and contact from `package.json` in `process.cwd()`
   * (the title from `name` in words: `fastify-ws-rooms` → `Fastify Ws Rooms`; the contact from
   * `author`, `bugs` and `homepage`)
   */
  info?: { title?: string, version?: string, description?: string, contact?: AsyncApiContact, license?: AsyncApiLicense }
  /**
   * Servers by name, e.g. `{ production: { host: 'chat.example.com', protocol: 'wss' } }`. Each one's
   * `pathname` ends with the WebSocket route.
   * @default {} (none): the served document then declares `default`, the host and scheme of the request
   */
  servers?: Record<string, AsyncApiServer>
  /** Path prefix of `asyncapi.json` and `asyncapi.yaml`, e.g. `/api` serves `/api/asyncapi.json`. @default '' */
  routePrefix?: string
  /** Serve the document over HTTP. `app.asyncapi()` works either way. @default true */
  expose?: boolean
}

export interface ResolvedAsyncApiOptions {
  info: { title: string, version: string, description: string | undefined, contact: AsyncApiContact | undefined, license: AsyncApiLicense | undefined }
  servers: Record<string, AsyncApiServer>
  routePrefix: string
  expose: boolean
}

const ASYNCAPI_KEYS: KeyTable<AsyncApiOptions> = { info: true, servers: true, routePrefix: true, expose: true }
const INFO_KEYS: KeyTable<NonNullable<AsyncApiOptions['info']>> = { title: true, version: true, description: true, contact: true, license: true }
const SERVER_KEYS: KeyTable<AsyncApiServer> = { host: true, protocol: true, pathname: true, title: true, summary: true, description: true, security: true }
const MOVED = {
  docsPath: ': the docs page is a separate plugin now: `app.register(wsDocs, { routePrefix })` from \'fastify-ws-rooms/docs\'',
}

function optionalString (name: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw invalidOption(name, 'a non-empty string', value)
  return value
}

/** An object of non-empty strings, with the `required` keys present. */
function infoObject<T extends object> (name: string, value: T | undefined, required: string[]): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(name, 'an object', value)
  for (const key of required) if (!(key in value)) throw invalidOption(`${name}.${key}`, 'a non-empty string', undefined)
  for (const [key, field] of Object.entries(value)) optionalString(`${name}.${key}`, field)
  return value
}

export function routePath (name: string, value: unknown, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (value === '' ? !allowEmpty : !value.startsWith('/')) || (value.length > 1 && value.endsWith('/'))) {
    throw invalidOption(name, `a path starting with "/" without a trailing "/"${allowEmpty ? ' (or "")' : ''}`, value)
  }
  return value
}

export function resolveAsyncApiOptions (given: AsyncApiOptions | undefined): ResolvedAsyncApiOptions {
  if (given !== undefined && (typeof given !== 'object' || given === null)) throw invalidOption('asyncapi', 'an object', given)
  const options = given ?? {}
  checkOptionKeys(options, ASYNCAPI_KEYS, 'asyncapi', MOVED)
  const info = options.info ?? {}
  if (typeof info !== 'object' || info === null) throw invalidOption('asyncapi.info', 'an object', info)
  checkOptionKeys(info, INFO_KEYS, 'asyncapi.info')
  const pkg = readPackageInfo()

  const servers = options.servers ?? {}
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) throw invalidOption('asyncapi.servers', 'an object of servers by name', servers)
  for (const [name, server] of Object.entries(servers)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw invalidOption(`asyncapi.servers key ${JSON.stringify(name)}`, 'letters, digits, "_", "." or "-"', name)
    if (typeof server !== 'object' || server === null || typeof server.host !== 'string' || server.host === '') {
      throw invalidOption(`asyncapi.servers.${name}.host`, 'a non-empty string', server?.host)
    }
    if (server.protocol !== 'ws' && server.protocol !== 'wss') throw invalidOption(`asyncapi.servers.${name}.protocol`, '"ws" or "wss"', server.protocol)
    checkOptionKeys(server, SERVER_KEYS, `asyncapi.servers.${name}`)
  }

  const expose = options.expose ?? true
  if (typeof expose !== 'boolean') throw invalidOption('asyncapi.expose', 'a boolean', expose)
  return {
    info: {
      title: optionalString('asyncapi.info.title', info.title) ?? titleFromPackageName(pkg.name ?? '') ?? 'WebSocket API',
      version: optionalString('asyncapi.info.version', info.version) ?? pkg.version ?? '0.0.0',
      description: optionalString('asyncapi.info.description', info.description) ?? pkg.description,
      contact: infoObject('asyncapi.info.contact', info.contact, []) ?? pkg.contact,
      license: infoObject('asyncapi.info.license', info.license, ['name']) ?? (pkg.license === undefined ? undefined : licenseFromSpdx(pkg.license)),
    },
    servers,
    routePrefix: routePath('asyncapi.routePrefix', options.routePrefix ?? '', true),
    expose,
  }
}
