/**
 * `fastify-ws-rooms-sdk [--openapi <file|url>] [--asyncapi <file|url>] [--url <base>] [--input <file|url>]
 * [--out <dir>] [--name <package>]`: generate one typed client package from an app's OpenAPI and/or
 * AsyncAPI documents. Exit codes: 0 done, 1 generation failed, 2 usage.
 */
import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_PACKAGE_NAME, generateSdk } from './generate.js'
import { SdkGenError } from './errors.js'
import { ASYNCAPI_PEERS } from './asyncapi-toolchain.js'
import { OPENAPI_GENERATOR, OPENAPI_GENERATOR_VERSION } from './openapi.js'

const USAGE = `Usage: fastify-ws-rooms-sdk [--url <base-url>] [--openapi <file|url>] [--asyncapi <file|url>] [--out <dir>] [--name <package-name>]

  -u, --url       base URL of a running app: finds /asyncapi.json and the OpenAPI JSON
                  (/documentation/json, /openapi.json, /swagger.json, /docs/json)
      --openapi   OpenAPI document (path or URL; with --url, a path like /api/openapi.json)
      --asyncapi  AsyncAPI document (path or URL; with --url, a path like /api/asyncapi.json)
  -i, --input     a document of either kind                default, alone: ./asyncapi.yaml
  -o, --out    output folder (replaced)                  default: ./sdk
  -n, --name   npm name of the generated package         default: ${DEFAULT_PACKAGE_NAME}
  -h, --help   show this help

Needs, where you run it (dev dependencies): typescript 5.x or 6.x; for an AsyncAPI document
${ASYNCAPI_PEERS.join(' and ')}; for an OpenAPI document ${OPENAPI_GENERATOR}@${OPENAPI_GENERATOR_VERSION}.
Each run names the ones it is missing.`

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

const console_: Io = { out: (line) => console.log(line), err: (line) => console.error(line) }

const seconds = (ms: number): string => (ms / 1000).toFixed(1) + ' s'

export async function main (argv: string[], io: Io = console_): Promise<number> {
  let values: { input?: string, openapi?: string, asyncapi?: string, url?: string, out?: string, name?: string, help?: boolean }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        openapi: { type: 'string' },
        asyncapi: { type: 'string' },
        url: { type: 'string', short: 'u' },
        out: { type: 'string', short: 'o' },
        name: { type: 'string', short: 'n' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (err) {
    io.err(`✖ ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    io.out(USAGE)
    return 0
  }
  const given = values.input !== undefined || values.openapi !== undefined || values.asyncapi !== undefined || values.url !== undefined
  try {
    const result = await generateSdk({
      ...(given ? {} : { input: './asyncapi.yaml' }),
      ...(values.input === undefined ? {} : { input: values.input }),
      ...(values.openapi === undefined ? {} : { openapi: values.openapi }),
      ...(values.asyncapi === undefined ? {} : { asyncapi: values.asyncapi }),
      ...(values.url === undefined ? {} : { url: values.url }),
      out: values.out ?? './sdk',
      name: values.name ?? DEFAULT_PACKAGE_NAME,
    })
    const rel = relative(process.cwd(), result.outDir)
    const where = rel === '' || rel.startsWith('..') ? result.outDir : './' + rel
    const t = result.timings
    const from = [result.sources.asyncapi, result.sources.openapi].filter((s) => s !== undefined).join(' + ')
    io.out(`✔ Generated ${result.packageName} from ${from} ("${result.title}" ${result.version})`)
    io.out(`  into ${where} — ${result.files.length} files, in ${seconds(t.totalMs)} (parse ${seconds(t.parseMs)}, render ${seconds(t.renderMs)}, build ${seconds(t.buildMs)})`)
    if (result.sources.asyncapi !== undefined) {
      io.out(`  client → server (${result.sendMethods.length}): ${result.sendMethods.join(', ')}`)
      io.out(`  server → client (${result.onMethods.length}): ${result.onMethods.join(', ')}`)
    }
    if (result.sources.openapi !== undefined) io.out(`  REST (${result.restMethods.length}): ${result.restMethods.join(', ')}`)
    io.out(`  use it: npm install ${where}  →  import { createClient } from '${result.packageName}'`)
    return 0
  } catch (err) {
    if (err instanceof SdkGenError) {
      io.err(`✖ ${err.code}: ${err.message}`)
      return 1
    }
    io.err(`✖ Generation failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    return 1
  }
}
