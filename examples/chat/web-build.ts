/**
 * What `npm start` does before serving the chat page: generate the one typed client from the
 * app's two documents — the OpenAPI document of its HTTP routes and the AsyncAPI document of its
 * WebSocket protocol, as `npm run sdk` does — into a cache folder, only when a document or the
 * generator changed (content hash); then bundle the page's TypeScript with esbuild, in memory.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import ts from 'typescript'
import { DEFAULT_PACKAGE_NAME, generateSdk } from '../../sdk-gen/generate.js'
import { buildChatApp, DEV_JWT_SECRET } from './app.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The page's source: index.html, app.ts, styles.css. */
export const WEB_DIR = join(ROOT, 'examples/chat/web')
/** Inside node_modules: gitignored, excluded from every tsconfig, and `npm ci` starts it afresh. */
export const DEFAULT_CACHE_DIR = join(ROOT, 'node_modules/.cache/fastify-ws-rooms-chat')

export interface ChatPageAssets {
  html: string
  js: string
  css: string
}

/** The app's two documents, as JSON data. */
export interface ChatDocuments {
  openapi: object
  asyncapi: object
}

/** The documents of the example app, from the app itself (a throwaway instance, never listening). */
export async function chatDocuments (): Promise<ChatDocuments> {
  const app = await buildChatApp({ jwtSecret: DEV_JWT_SECRET, logger: false, ws: { heartbeatIntervalMs: 0 } })
  try {
    await app.ready()
    return { openapi: app.swagger(), asyncapi: app.asyncapi() }
  } finally {
    await app.close()
  }
}

export interface PrepareChatPageOptions {
  /**
   * The documents the client is generated from.
   * @default chatDocuments(): the example app's OpenAPI and AsyncAPI documents
   */
  documents?: ChatDocuments
  /**
   * Where generated clients are kept (`sdk-<hash>/`, and `sdk` pointing at the current one).
   * @default '<repo>/node_modules/.cache/fastify-ws-rooms-chat'
   */
  cacheDir?: string
  /**
   * Progress lines (what was generated or reused, how long it took).
   * @default console.log
   */
  log?: (line: string) => void
}

export interface PreparedChatPage extends ChatPageAssets {
  /** The generated client package used by the bundle. */
  sdkDir: string
  /** False when a cached client matched the content hash. */
  generated: boolean
}

export async function prepareChatPage (options: PrepareChatPageOptions = {}): Promise<PreparedChatPage> {
  const documents = options.documents ?? await chatDocuments()
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR
  const log = options.log ?? ((line: string) => console.log(line))

  const hash = await sourceHash(documents)
  const sdkDir = join(cacheDir, `sdk-${hash.slice(0, 16)}`)
  let generated = false
  if (existsSync(join(sdkDir, 'dist/index.js'))) {
    log(`chat page: typed client up to date with the app's OpenAPI and AsyncAPI documents (${shown(sdkDir)})`)
  } else {
    const started = performance.now()
    log(`chat page: generating the typed client from the app's OpenAPI and AsyncAPI documents (npm run sdk) into ${shown(sdkDir)}…`)
    await generateFresh(documents, cacheDir, sdkDir)
    generated = true
    log(`chat page: client generated in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  await pointCurrentAt(cacheDir, sdkDir)

  const started = performance.now()
  const js = await bundlePage(sdkDir)
  const [html, css] = await Promise.all([readFile(join(WEB_DIR, 'index.html'), 'utf8'), readFile(join(WEB_DIR, 'styles.css'), 'utf8')])
  log(`chat page: bundled ${shown(join(WEB_DIR, 'app.ts'))} with esbuild (${Math.round(js.length / 1024)} KiB, ${Math.round(performance.now() - started)} ms)`)
  return { html, js, css, sdkDir, generated }
}

/**
 * Everything the generated client depends on: the documents, the generator and its template.
 * The page itself is bundled on every start (tens of milliseconds), so it needs no hash.
 */
async function sourceHash (documents: ChatDocuments): Promise<string> {
  const hash = createHash('sha256')
  hash.update(DEFAULT_PACKAGE_NAME).update('\0')
  hash.update(JSON.stringify(documents.openapi)).update('\0').update(JSON.stringify(documents.asyncapi)).update('\0')
  const generator = join(ROOT, 'sdk-gen')
  const files = (await readdir(generator, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && !join(entry.parentPath, entry.name).includes('__transpiled'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0').update(await readFile(file)).update('\0')
  }
  return hash.digest('hex')
}

/**
 * Generate into a private folder, then move it into place: two servers starting at once never
 * see a half-written client. Older generations are removed (best effort).
 */
async function generateFresh (documents: ChatDocuments, cacheDir: string, sdkDir: string): Promise<void> {
  await mkdir(cacheDir, { recursive: true })
  const temp = `${sdkDir}.tmp-${process.pid}`
  const inputs = `${temp}-documents`
  try {
    await mkdir(inputs, { recursive: true })
    const openapi = join(inputs, 'openapi.json')
    const asyncapi = join(inputs, 'asyncapi.json')
    await Promise.all([writeFile(openapi, JSON.stringify(documents.openapi)), writeFile(asyncapi, JSON.stringify(documents.asyncapi))])
    await generateSdk({ openapi, asyncapi, out: temp, name: DEFAULT_PACKAGE_NAME })
    await rename(temp, sdkDir).catch((err: NodeJS.ErrnoException) => {
      // Another process got there first with the same content.
      if (!existsSync(join(sdkDir, 'dist/index.js'))) throw err
    })
  } finally {
    await Promise.all([rm(temp, { recursive: true, force: true }), rm(inputs, { recursive: true, force: true })])
  }
  for (const entry of await readdir(cacheDir)) {
    const path = join(cacheDir, entry)
    if (entry.startsWith('sdk-') && path !== sdkDir && !entry.includes('.tmp-')) await rm(path, { recursive: true, force: true }).catch(() => {})
  }
}

/** `<cacheDir>/sdk` → the current generation: the stable path `web/tsconfig.json` resolves the client by. */
async function pointCurrentAt (cacheDir: string, sdkDir: string): Promise<void> {
  const link = join(cacheDir, 'sdk')
  const temp = `${link}.link-${process.pid}`
  await rm(temp, { force: true })
  await symlink(sdkDir, temp, 'junction')
  await rename(temp, link)
}

async function bundlePage (sdkDir: string): Promise<string> {
  const result = await build({
    entryPoints: [join(WEB_DIR, 'app.ts')],
    alias: { [DEFAULT_PACKAGE_NAME]: join(sdkDir, 'dist/index.js') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/**
 * Type-check the page against a generated client with `web/tsconfig.json` (DOM typings, strict).
 * Returns formatted diagnostics; empty when it compiles. esbuild only strips types, so the page's
 * test runs this.
 */
export function checkPageTypes (sdkDir: string): string[] {
  const configPath = join(WEB_DIR, 'tsconfig.json')
  const read = ts.readConfigFile(configPath, ts.sys.readFile)
  const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (name) => name, getCurrentDirectory: () => WEB_DIR, getNewLine: () => '\n' }
  if (read.error !== undefined) return [ts.formatDiagnostics([read.error], host)]
  const config = ts.parseJsonConfigFileContent(read.config, ts.sys, WEB_DIR)
  const program = ts.createProgram(config.fileNames, { ...config.options, paths: { [DEFAULT_PACKAGE_NAME]: [join(sdkDir, 'dist/index.d.ts')] }, noEmit: true })
  return ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, host).trimEnd())
}

function shown (path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' || rel.startsWith('..') ? path : rel
}
