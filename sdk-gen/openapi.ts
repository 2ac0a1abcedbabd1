/**
 * The REST half: an OpenAPI document → `src/rest/` of the generated package through
 * `@hey-api/openapi-ts` (its programmatic API; types, operation functions and its fetch client,
 * which it bundles into the output), then the list of operations the root client wraps.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { compilerApi, redirectTypeScriptImports } from './compiler.js'
import { SdkGenError } from './errors.js'

/** The generator version this template is tested with; its output changes between 0.x minors. */
export const OPENAPI_GENERATOR = '@hey-api/openapi-ts'
export const OPENAPI_GENERATOR_VERSION = '0.99.0'

/** A method name left exactly as written: camelCase, an identifier, not a reserved word. */
const METHOD_NAME = /^[a-z][A-Za-z0-9]*$/
const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
  'import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface ' +
  'package private protected public await constructor').split(' '))

export interface RestOperation {
  /** Method name on the root client (and name of the generated operation function). */
  method: string
  httpMethod: string
  path: string
  summary?: string
  description?: string
  deprecated: boolean
  /** Names of the generated types (absent when the document defines none). */
  dataType: string
  responseType?: string
  errorsType?: string
  secured: boolean
}

export interface RestModel {
  title: string
  version: string
  operations: RestOperation[]
}

type Json = Record<string, any>

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** Refuse operationIds that cannot be method names before anything is written. */
export function checkOperationNames (document: Json, source: string): void {
  for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operationId = item?.[method]?.operationId
      if (operationId === undefined) continue
      if (typeof operationId !== 'string' || !METHOD_NAME.test(operationId) || RESERVED.has(operationId)) {
        throw new SdkGenError('SDK_ERR_OPERATION_NAME',
          `${source}: operation ${method.toUpperCase()} ${path} has operationId ${JSON.stringify(operationId)}, which cannot become a method name: ` +
          'use a camelCase identifier that is not a reserved word (e.g. "listRoomMessages"), or leave operationId out to get one from the method and path')
      }
    }
  }
}

interface HeyApi {
  createClient: (config: object) => Promise<ReadonlyArray<{ ir: { paths?: Record<string, Record<string, Json>> } }>>
}

async function loadGenerator (): Promise<HeyApi> {
  const compiler = compilerApi()
  let entry: string
  try {
    entry = fileURLToPath(import.meta.resolve(OPENAPI_GENERATOR))
  } catch {
    throw new SdkGenError('SDK_ERR_MISSING_DEPENDENCY',
      `An OpenAPI document needs ${OPENAPI_GENERATOR}: npm install --save-dev --save-exact ${OPENAPI_GENERATOR}@${OPENAPI_GENERATOR_VERSION}`)
  }
  // Its output changes between 0.x minors, and it is not a peer (a peer would block installs):
  // the version is checked here instead.
  const version = await installedVersion(entry)
  if (version !== OPENAPI_GENERATOR_VERSION) {
    throw new SdkGenError('SDK_ERR_MISSING_DEPENDENCY',
      `The REST half is generated with ${OPENAPI_GENERATOR} ${OPENAPI_GENERATOR_VERSION}, found ${version ?? 'an unknown version'}: npm install --save-dev --save-exact ${OPENAPI_GENERATOR}@${OPENAPI_GENERATOR_VERSION}`)
  }
  redirectTypeScriptImports(entry, compiler)
  return await import(OPENAPI_GENERATOR) as HeyApi
}

/** The `version` of the package.json nearest above `entry` that names the generator. */
async function installedVersion (entry: string): Promise<string | undefined> {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (manifest.name === OPENAPI_GENERATOR) return manifest.version
    } catch {}
  }
  return undefined
}

/** Generate `<srcDir>/rest/` and return the operations, checked against what was written. */
export async function generateRest (document: Json, srcDir: string): Promise<RestModel> {
  const heyApi = await loadGenerator()
  const restDir = join(srcDir, 'rest')
  const [context] = await heyApi.createClient({
    input: structuredClone(document),
    output: { path: restDir },
    logs: { level: 'silent', file: false },
    plugins: ['@hey-api/typescript', '@hey-api/sdk', '@hey-api/client-fetch'],
  })
  const index = await readFile(join(restDir, 'index.ts'), 'utf8')
  const exported = new Set([...index.matchAll(/(?:type )?([A-Za-z_$][\w$]*)/g)].map((m) => m[1]))
  const operations: RestOperation[] = []
  for (const [path, item] of Object.entries(context?.ir.paths ?? {})) {
    for (const [httpMethod, operation] of Object.entries<Json>(item)) {
      const method = String(operation.id)
      if (!METHOD_NAME.test(method) || RESERVED.has(method) || !exported.has(method)) {
        throw new SdkGenError('SDK_ERR_OPERATION_NAME',
          `Operation ${httpMethod.toUpperCase()} ${path} gets the name ${JSON.stringify(method)} from its method and path, which cannot become a method name: give it an operationId (a camelCase identifier)`)
      }
      const pascal = method.charAt(0).toUpperCase() + method.slice(1)
      const raw = document.paths?.[path]?.[httpMethod] as Json | undefined
      const security = raw?.security ?? document.security
      operations.push({
        method,
        httpMethod: httpMethod.toUpperCase(),
        path,
        ...(typeof operation.summary === 'string' ? { summary: operation.summary } : {}),
        ...(typeof operation.description === 'string' ? { description: operation.description } : {}),
        deprecated: operation.deprecated === true,
        dataType: pascal + 'Data',
        ...(exported.has(pascal + 'Response') ? { responseType: pascal + 'Response' } : {}),
        ...(exported.has(pascal + 'Errors') ? { errorsType: pascal + 'Errors' } : {}),
        secured: Array.isArray(security) && security.length > 0,
      })
    }
  }
  operations.sort((a, b) => a.method.localeCompare(b.method))
  return { title: String(document.info?.title ?? 'API'), version: String(document.info?.version ?? '0.0.0'), operations }
}
