/**
 * Where the documents come from: files, URLs, or a running app found by its base URL; and which
 * kind each one is (OpenAPI or AsyncAPI), told by its root field.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { SdkGenError } from './errors.js'

export type DocumentKind = 'openapi' | 'asyncapi'

export interface LoadedDocument {
  kind: DocumentKind
  text: string
  /** The parsed document (JSON or YAML). */
  json: Record<string, unknown>
  /** Absolute path or URL. */
  source: string
}

/**
 * JSON routes of an OpenAPI document served for `@fastify/swagger`, probed in this order under
 * `--url`: `@fastify/swagger-ui`'s default (`routePrefix: '/documentation'`), then common choices.
 */
export const OPENAPI_PROBE_PATHS = ['/documentation/json', '/openapi.json', '/swagger.json', '/docs/json']
/** The plugin serves its document here (`asyncapi.routePrefix` moves it). */
export const ASYNCAPI_PATH = '/asyncapi.json'

export async function readText (input: string, what: string): Promise<{ text: string, source: string }> {
  if (/^https?:\/\//i.test(input)) {
    let response: Response
    try {
      response = await fetch(input, { headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5' } })
    } catch (err) {
      const cause = (err as Error).cause
      throw new SdkGenError('SDK_ERR_INPUT', `Cannot fetch ${input}: ${cause instanceof Error ? cause.message : (err as Error).message}`)
    }
    if (!response.ok) throw new SdkGenError('SDK_ERR_INPUT', `Cannot fetch ${input}: HTTP ${response.status}`)
    return { text: await response.text(), source: input }
  }
  const path = resolve(input)
  try {
    return { text: await readFile(path, 'utf8'), source: path }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const hint = code === 'ENOENT' && input === './asyncapi.yaml' ? ' (export it from the server first, or pass --input <file|url>)' : ''
    throw new SdkGenError('SDK_ERR_INPUT', `Cannot read the ${what} document ${path}: ${code ?? (err as Error).message}${hint}`)
  }
}

/** The kind of a document, from `openapi`/`swagger` or `asyncapi` at its root; undefined for anything else. */
export function kindOf (json: unknown): DocumentKind | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
  const root = json as Record<string, unknown>
  if (typeof root.asyncapi === 'string') return 'asyncapi'
  if (typeof root.openapi === 'string' || root.swagger === '2.0') return 'openapi'
  return undefined
}

function parseText (text: string): unknown {
  try {
    return parseYaml(text) // YAML is a superset of JSON
  } catch {
    return undefined
  }
}

/** Read a document and tell its kind; `expected` (from the flag it came with) must match when given. */
export async function loadDocument (input: string, expected?: DocumentKind): Promise<LoadedDocument> {
  const { text, source } = await readText(input, expected === 'openapi' ? 'OpenAPI' : 'AsyncAPI')
  const json = parseText(text)
  const kind = kindOf(json)
  if (kind === undefined) {
    throw new SdkGenError('SDK_ERR_NOT_AN_API_DOCUMENT',
      `${source} is neither an OpenAPI document (no "openapi" field at its root) nor an AsyncAPI document (no "asyncapi" field)`)
  }
  if (expected !== undefined && kind !== expected) {
    throw new SdkGenError('SDK_ERR_NOT_AN_API_DOCUMENT', `${source} is an ${kind === 'openapi' ? 'OpenAPI' : 'AsyncAPI'} document, given as the ${expected === 'openapi' ? 'OpenAPI' : 'AsyncAPI'} one: swap the flags`)
  }
  return { kind, text, json: json as Record<string, unknown>, source }
}

/** `path` resolved against the app's base URL when it is a path (`/openapi.json`), else as is. */
export function againstBase (baseUrl: string | undefined, input: string): string {
  if (baseUrl === undefined || !input.startsWith('/')) return input
  return new URL(input, baseUrl.replace(/\/*$/, '/')).href
}

/**
 * Find both documents of a running app: the AsyncAPI one at `/asyncapi.json`, the OpenAPI one at
 * the first of OPENAPI_PROBE_PATHS that answers with an OpenAPI document. Missing ones are skipped;
 * finding neither is an error.
 */
export async function discover (baseUrl: string, want: { openapi: boolean, asyncapi: boolean }): Promise<{ openapi?: LoadedDocument, asyncapi?: LoadedDocument, tried: string[] }> {
  if (!/^https?:\/\//i.test(baseUrl)) throw new SdkGenError('SDK_ERR_USAGE', `--url must be an http(s) URL, e.g. http://127.0.0.1:3000; got ${JSON.stringify(baseUrl)}`)
  const tried: string[] = []
  const attempt = async (path: string, kind: DocumentKind): Promise<LoadedDocument | undefined> => {
    const url = againstBase(baseUrl, path)
    tried.push(url)
    try {
      return await loadDocument(url, kind)
    } catch (err) {
      if (err instanceof SdkGenError && /^HTTP 404|^Cannot fetch .*: HTTP 404/.test(err.message)) return undefined
      if (err instanceof SdkGenError && err.code === 'SDK_ERR_NOT_AN_API_DOCUMENT') return undefined
      throw err
    }
  }
  const found: { openapi?: LoadedDocument, asyncapi?: LoadedDocument, tried: string[] } = { tried }
  if (want.asyncapi) {
    const asyncapi = await attempt(ASYNCAPI_PATH, 'asyncapi')
    if (asyncapi !== undefined) found.asyncapi = asyncapi
  }
  if (want.openapi) {
    for (const path of OPENAPI_PROBE_PATHS) {
      const openapi = await attempt(path, 'openapi')
      if (openapi !== undefined) {
        found.openapi = openapi
        break
      }
    }
  }
  return found
}
