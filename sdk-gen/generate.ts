/**
 * `generateSdk()`: an app's documents → one typed client package, built. Steps: read (files, URLs,
 * or found on a running app) → parse the AsyncAPI document (diagnostics on failure) → model (method
 * names checked) → prepare the output folder → render the template with @asyncapi/generator →
 * the REST half from the OpenAPI document (openapi.ts, rest-package.ts) → compile to ESM + .d.ts.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadAsyncApiToolchain, type AsyncApiToolchain } from './asyncapi-toolchain.js'
import { buildPackage } from './build.js'
import { SdkGenError } from './errors.js'
import { installProtocol } from './protocol-copy.js'
import { againstBase, discover, loadDocument, type LoadedDocument } from './inputs.js'
import { addRestHalf } from './rest-package.js'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))

/**
 * The @asyncapi/generator template (React templates + the runtime copied verbatim). It sits beside
 * this file in the repository, and two levels up from the compiled copy in `dist/sdk-gen/`.
 */
export const TEMPLATE_DIR = [join(here, 'template-dir'), join(here, '..', '..', 'sdk-gen', 'template-dir')]
  .find((dir) => existsSync(join(dir, 'package.json'))) ?? join(here, 'template-dir')
/** Written into every generated package.json: only folders carrying it are ever deleted. */
export const GENERATED_MARKER = 'fastify-ws-rooms sdk-gen'
export const DEFAULT_PACKAGE_NAME = '@app/realtime-client'

const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/

export interface GenerateOptions {
  /** Path or http(s) URL of a document, OpenAPI or AsyncAPI (told by its root field). */
  input?: string
  /** Path or http(s) URL of the AsyncAPI document (a path like `/asyncapi.json` is resolved against `url`). */
  asyncapi?: string
  /** Path or http(s) URL of the OpenAPI document (a path like `/openapi.json` is resolved against `url`). */
  openapi?: string
  /**
   * Base URL of a running app: the documents not given otherwise are found there (`/asyncapi.json`;
   * the OpenAPI JSON at `/documentation/json`, `/openapi.json`, `/swagger.json` or `/docs/json`).
   */
  url?: string
  /** Output folder (replaced). */
  out: string
  /**
   * npm name of the generated package.
   * @default '@app/realtime-client'
   */
  name?: string
  /**
   * Compile the package to `dist/` (ESM + .d.ts). Tests of the rendering alone may skip it.
   * @default true
   */
  build?: boolean
}

export interface GenerateResult {
  outDir: string
  packageName: string
  title: string
  version: string
  /** Files written, relative to `outDir`. */
  files: string[]
  sendMethods: string[]
  onMethods: string[]
  /** REST methods (one per OpenAPI operation). */
  restMethods: string[]
  /** Where each document came from. */
  sources: { asyncapi?: string, openapi?: string }
  timings: { parseMs: number, renderMs: number, buildMs: number, totalMs: number }
}

interface Model {
  title: string
  version: string
  /** The WebSocket route (the channel address). */
  address?: string
  client: Array<{ method: string }>
  server: Array<{ method: string }>
}

export async function generateSdk (options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now()
  const packageName = options.name ?? DEFAULT_PACKAGE_NAME
  if (!PACKAGE_NAME.test(packageName)) {
    throw new SdkGenError('SDK_ERR_PACKAGE_NAME', `--name ${JSON.stringify(packageName)} is not a valid npm package name (e.g. "@app/realtime-client")`)
  }
  const outDir = resolve(options.out)

  const documents = await readDocuments(options)
  // The AsyncAPI tools (optional peers) and a private copy of the template with the protocol module
  // installed (see protocol-copy.ts): an OpenAPI-only run needs neither.
  const tools = documents.asyncapi === undefined ? undefined : await loadAsyncApiToolchain()
  const template = tools === undefined ? undefined : await prepareTemplate(tools)
  try {
    let document: unknown
    let model: Model | undefined
    if (tools !== undefined && documents.asyncapi !== undefined) {
      document = await tools.parse(documents.asyncapi.text, documents.asyncapi.source)
      model = modelOf(template!, document)
    }
    const parsed = performance.now()

    for (const doc of [documents.asyncapi, documents.openapi]) if (doc !== undefined) await prepareOutput(outDir, doc.source)
    if (tools !== undefined && template !== undefined && document !== undefined) await tools.render(template, document, outDir, packageName)
    let rest: { title: string, version: string, methods: string[] } | undefined
    if (documents.openapi !== undefined) {
      rest = await addRestHalf(documents.openapi, outDir, packageName, model === undefined
        ? undefined
        : { address: model.address ?? '/ws', methods: [...model.client, ...model.server].map((m) => m.method) })
    }
    const rendered = performance.now()

    if (options.build !== false) {
      const diagnostics = buildPackage(outDir)
      if (diagnostics.length > 0) {
        throw new SdkGenError('SDK_ERR_BUILD', `The generated package does not compile (a bug in the template, please report it):\n${diagnostics.join('\n')}`)
      }
    }
    const built = performance.now()

    return {
      outDir,
      packageName,
      title: model?.title ?? rest?.title ?? '',
      version: model?.version ?? rest?.version ?? '',
      files: await listFiles(outDir),
      sendMethods: model?.client.map((m) => m.method) ?? [],
      onMethods: model?.server.map((m) => m.method) ?? [],
      restMethods: rest?.methods ?? [],
      sources: {
        ...(documents.asyncapi === undefined ? {} : { asyncapi: documents.asyncapi.source }),
        ...(documents.openapi === undefined ? {} : { openapi: documents.openapi.source }),
      },
      timings: { parseMs: parsed - started, renderMs: rendered - parsed, buildMs: built - rendered, totalMs: built - started },
    }
  } finally {
    if (template !== undefined) {
      // The helpers were loaded from the private copy: let them go with it.
      for (const id of Object.keys(require.cache)) if (id.startsWith(template + sep)) delete require.cache[id]
      await rm(template, { recursive: true, force: true })
    }
  }
}

/** The documents to generate from: explicit flags first, then `--input` (either kind), then `--url`. */
async function readDocuments (options: GenerateOptions): Promise<{ asyncapi?: LoadedDocument, openapi?: LoadedDocument }> {
  const found: { asyncapi?: LoadedDocument, openapi?: LoadedDocument } = {}
  const add = (doc: LoadedDocument, flag: string): void => {
    if (found[doc.kind] !== undefined) {
      throw new SdkGenError('SDK_ERR_USAGE', `Two ${doc.kind === 'openapi' ? 'OpenAPI' : 'AsyncAPI'} documents (${found[doc.kind]!.source} and ${doc.source} from ${flag}): give one of each kind`)
    }
    found[doc.kind] = doc
  }
  if (options.asyncapi !== undefined) add(await loadDocument(againstBase(options.url, options.asyncapi), 'asyncapi'), '--asyncapi')
  if (options.openapi !== undefined) add(await loadDocument(againstBase(options.url, options.openapi), 'openapi'), '--openapi')
  if (options.input !== undefined) add(await loadDocument(againstBase(options.url, options.input)), '--input')
  if (options.url !== undefined) {
    const { tried, ...discovered } = await discover(options.url, { asyncapi: found.asyncapi === undefined, openapi: found.openapi === undefined })
    if (discovered.asyncapi !== undefined) found.asyncapi = discovered.asyncapi
    if (discovered.openapi !== undefined) found.openapi = discovered.openapi
    if (found.asyncapi === undefined && found.openapi === undefined) {
      throw new SdkGenError('SDK_ERR_INPUT', `No OpenAPI or AsyncAPI document found on ${options.url} (tried ${tried.join(', ')}): pass --openapi <path|url> / --asyncapi <path|url>`)
    }
  }
  if (found.asyncapi === undefined && found.openapi === undefined) add(await loadDocument('./asyncapi.yaml'), '--input')
  return found
}

function modelOf (template: string, document: unknown): Model {
  const { buildModel, SdkModelError } = require(join(template, 'helpers', 'model.cjs')) as {
    buildModel: (doc: unknown) => Model
    SdkModelError: new (...args: never[]) => Error & { code: string }
  }
  try {
    return buildModel(document)
  } catch (err) {
    if (err instanceof SdkModelError) throw new SdkGenError(err.code, err.message)
    throw err
  }
}

/**
 * Replace the output folder, but only if it is empty or was generated by us: `--out .` by mistake
 * must not wipe a project. Then prove it is writable before rendering anything.
 */
async function prepareOutput (outDir: string, source: string): Promise<void> {
  if (outDir === sep || resolve(process.cwd()).startsWith(outDir + sep) || outDir === resolve(process.cwd()) || source.startsWith(outDir + sep)) {
    throw new SdkGenError('SDK_ERR_OUTPUT', `Refusing to use ${outDir} as the output folder: it contains the current folder or the input document`)
  }
  let entries: string[] | undefined
  try {
    entries = await readdir(outDir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') throw new SdkGenError('SDK_ERR_OUTPUT', `Output ${outDir} is a file, not a folder`)
    if (code !== 'ENOENT') throw new SdkGenError('SDK_ERR_OUTPUT', `Output folder ${outDir} is not readable: ${code ?? (err as Error).message}`)
  }
  if (entries !== undefined && entries.length > 0) {
    if (!await isGenerated(outDir)) {
      throw new SdkGenError('SDK_ERR_OUTPUT', `Output folder ${outDir} is not empty and was not generated by this command: remove it or choose another --out`)
    }
    await rm(outDir, { recursive: true, force: true })
  }
  try {
    await mkdir(outDir, { recursive: true })
    const probe = join(outDir, '.write-test')
    await writeFile(probe, '')
    await rm(probe)
  } catch (err) {
    throw new SdkGenError('SDK_ERR_OUTPUT', `Output folder ${outDir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

async function isGenerated (dir: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { generatedBy?: unknown }
    return pkg.generatedBy === GENERATED_MARKER
  } catch {
    return false
  }
}

/**
 * A private copy of the template, with the protocol module installed in it (`protocol-copy.ts`):
 * the generator transpiles templates into the template folder itself, so a shared folder breaks
 * parallel runs and read-only installs.
 */
async function prepareTemplate (tools: AsyncApiToolchain): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'ws-rooms-sdk-template-'))
  try {
    await cp(TEMPLATE_DIR, copy, { recursive: true, filter: (src) => !src.includes('__transpiled') })
    await installProtocol(copy)
    // Transpiled templates import @asyncapi/generator-react-sdk: the generator's own copy.
    await symlink(tools.reactSdkModules, join(copy, 'node_modules'), 'dir')
  } catch (err) {
    await rm(copy, { recursive: true, force: true })
    throw err
  }
  return copy
}

async function listFiles (dir: string, base = dir): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...await listFiles(path, base))
    else if ((await stat(path)).isFile()) files.push(relative(base, path))
  }
  return files.sort()
}
