/**
 * Adds the REST half to the generated package (or writes a REST-only package when there is no
 * AsyncAPI document): `src/rest/` from the OpenAPI generator, the shared runtime (token source,
 * call path), `src/app.ts` with the root client, and the exports.
 */
import { cp, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SdkGenError } from './errors.js'
import type { LoadedDocument } from './inputs.js'
import { checkOperationNames, generateRest, type RestModel } from './openapi.js'
import { renderApp, RESERVED_MEMBERS, type RealtimeSide } from './render-app.js'

const here = dirname(fileURLToPath(import.meta.url))
/** Runtime files of the root client, copied into `src/app-runtime/` (beside this file, or from dist/ two levels up). */
const APP_RUNTIME = [join(here, 'app-runtime'), join(here, '..', '..', 'sdk-gen', 'app-runtime')].find((dir) => existsSync(dir)) ?? join(here, 'app-runtime')

export async function addRestHalf (openapi: LoadedDocument, outDir: string, packageName: string, realtime: RealtimeSide | undefined): Promise<{ title: string, version: string, methods: string[] }> {
  checkOperationNames(openapi.json, openapi.source)
  const src = join(outDir, 'src')
  await mkdir(src, { recursive: true })
  let model: RestModel
  try {
    model = await generateRest(openapi.json, src)
  } catch (err) {
    if (err instanceof SdkGenError) throw err
    throw new SdkGenError('SDK_ERR_PARSE', `${openapi.source} could not be turned into a REST client: ${err instanceof Error ? err.message : String(err)}`)
  }
  checkCollisions(model, realtime)

  // `ClientOptions` of the REST types is the fetch client's; the package's own options types are exported instead.
  const restTypes = [...exportedNames(await readFile(join(src, 'rest', 'types.gen.ts'), 'utf8'))].filter((name) => name !== 'ClientOptions')
  if (realtime !== undefined) await checkTypeClashes(src, restTypes)

  await cp(APP_RUNTIME, join(src, 'app-runtime'), { recursive: true })
  await writeFile(join(src, 'app.ts'), renderApp(model, realtime))
  const appExports = `export { AppClient, createClient, HttpError, NetworkError } from './app.js'
export type { AppClientOptions, ${model.operations.map((op) => op.method.charAt(0).toUpperCase() + op.method.slice(1) + 'HttpError').join(', ')} } from './app.js'
export type { AppTokenProvider } from './app-runtime/token-source.js'
export type { ArgsOf, CallArgs, CallOptions, HttpErrorOf } from './app-runtime/rest.js'
export type { ${restTypes.join(', ')} } from './rest/types.gen.js'
`
  if (realtime === undefined) {
    await writeFile(join(src, 'index.ts'), appExports)
    await writePackageFiles(outDir, packageName, model)
  } else {
    // The template's index becomes realtime.ts; its `createClient` is shadowed by the explicit
    // re-export of the root one (which still accepts the real-time options alone).
    await rename(join(src, 'index.ts'), join(src, 'realtime.ts'))
    await writeFile(join(src, 'index.ts'), "export * from './realtime.js'\n" + appExports)
  }
  // The REST half uses fetch, Request, Response and AbortSignal: the DOM's types (browsers and Node ≥ 18 have them all).
  const tsconfigPath = join(outDir, 'tsconfig.json')
  const tsconfig = JSON.parse(await readFile(tsconfigPath, 'utf8')) as { compilerOptions: { lib: string[] } }
  tsconfig.compilerOptions.lib = [...new Set([...tsconfig.compilerOptions.lib, 'DOM', 'DOM.Iterable'])]
  await writeFile(tsconfigPath, JSON.stringify(tsconfig, null, 2) + '\n')
  await appendReadme(join(outDir, 'README.md'), model, packageName, realtime !== undefined)
  return { title: model.title, version: model.version, methods: model.operations.map((op) => op.method) }
}

function checkCollisions (model: RestModel, realtime: RealtimeSide | undefined): void {
  const taken = new Map<string, string>(RESERVED_MEMBERS.map((name) => [name, 'a member of the client itself']))
  for (const method of realtime?.methods ?? []) taken.set(method, 'a real-time method from the AsyncAPI document')
  for (const op of model.operations) {
    const other = taken.get(op.method)
    if (other !== undefined) {
      throw new SdkGenError('SDK_ERR_NAME_CLASH', `REST operation ${op.httpMethod} ${op.path} becomes the method ${op.method}(), which is already ${other}: give the operation another operationId`)
    }
  }
}

/** Names a module exports by declaration (`export type X`) or by list (`export { X, type Y } from`). */
function exportedNames (code: string): Set<string> {
  const declared = [...code.matchAll(/^export (?:declare )?(?:type|interface|const|function|class|enum) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!)
  const listed = [...code.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) => m[1]!.split(','))
    .map((item) => item.trim().replace(/^type /, '').split(/\s+as\s+/).pop()!.trim()).filter((name) => name !== '')
  return new Set([...declared, ...listed])
}

/** A REST type named like a real-time one would shadow it in the package's exports. */
async function checkTypeClashes (src: string, restTypes: string[]): Promise<void> {
  const realtime = new Set([
    ...exportedNames(await readFile(join(src, 'protocol.ts'), 'utf8')),
    ...exportedNames(await readFile(join(src, 'index.ts'), 'utf8')),
  ])
  const clashes = restTypes.filter((name) => realtime.has(name))
  if (clashes.length > 0) {
    throw new SdkGenError('SDK_ERR_NAME_CLASH', `The OpenAPI and AsyncAPI documents both define the type${clashes.length > 1 ? 's' : ''} ${clashes.join(', ')}: rename the schema in one of them`)
  }
}

async function writePackageFiles (outDir: string, packageName: string, model: RestModel): Promise<void> {
  const pkg = {
    name: packageName,
    version: model.version,
    description: `Typed REST client for ${model.title}, generated from its OpenAPI document.`,
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    files: ['dist', 'src', 'README.md'],
    sideEffects: false,
    dependencies: {},
    generatedBy: 'fastify-ws-rooms sdk-gen',
  }
  await writeFile(join(outDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'ES2022', moduleResolution: 'Bundler', lib: ['ES2022'], types: [], strict: true, declaration: true, rootDir: 'src', outDir: 'dist' },
    include: ['src'],
  }
  await writeFile(join(outDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n')
  await writeFile(join(outDir, 'README.md'), `# ${packageName}\n\nTyped client of "${model.title}" ${model.version}, generated by fastify-ws-rooms sdk-gen.\n`)
}

async function appendReadme (path: string, model: RestModel, packageName: string, realtime: boolean): Promise<void> {
  const rows = model.operations.map((op) => `| \`${op.method}(${op.dataType})\` | \`${op.httpMethod} ${op.path}\` | \`Promise<${op.responseType ?? 'unknown'}>\` | ${op.secured ? 'yes' : 'no'} |`)
  const section = `
## REST (from the OpenAPI document)

\`\`\`ts
import { createClient, HttpError } from '${packageName}'
const client = createClient({ baseUrl: 'http://127.0.0.1:3000', token: () => getToken() })
\`\`\`

One method per operation; arguments are \`{ path, query, body, signal, headers }\` as the operation
needs them. A non-2xx answer throws \`HttpError\` (\`status\`, \`body\`); operations with security
send the token and, after a 401, refresh it once${realtime ? ' — the same single-flight refresh the socket uses' : ''}.

| method | route | returns | token |
|---|---|---|---|
${rows.join('\n')}
`
  const existing = existsSync(path) ? await readFile(path, 'utf8') : ''
  await writeFile(path, existing + section)
}
