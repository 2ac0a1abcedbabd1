/**
 * `fastify-ws-rooms-sdk [--input <file|url>] [--out <dir>] [--name <package>]`: generate the typed
 * client package from an AsyncAPI document. Exit codes: 0 done, 1 generation failed, 2 usage.
 */
import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_PACKAGE_NAME, generateSdk } from './generate.js'
import { SdkGenError } from './errors.js'

const USAGE = `Usage: fastify-ws-rooms-sdk [--input <file|url>] [--out <dir>] [--name <package-name>]

  -i, --input  AsyncAPI document (path or http(s) URL)   default: ./asyncapi.yaml
  -o, --out    output folder (replaced)                  default: ./sdk
  -n, --name   npm name of the generated package         default: ${DEFAULT_PACKAGE_NAME}
  -h, --help   show this help`

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

const console_: Io = { out: (line) => console.log(line), err: (line) => console.error(line) }

const seconds = (ms: number): string => (ms / 1000).toFixed(1) + ' s'

export async function main (argv: string[], io: Io = console_): Promise<number> {
  let values: { input?: string, out?: string, name?: string, help?: boolean }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
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
  const input = values.input ?? './asyncapi.yaml'
  try {
    const result = await generateSdk({ input, out: values.out ?? './sdk', name: values.name ?? DEFAULT_PACKAGE_NAME })
    const rel = relative(process.cwd(), result.outDir)
    const where = rel === '' || rel.startsWith('..') ? result.outDir : './' + rel
    const t = result.timings
    io.out(`✔ Generated ${result.packageName} from ${input} ("${result.title}" ${result.version})`)
    io.out(`  into ${where} — ${result.files.length} files, in ${seconds(t.totalMs)} (parse ${seconds(t.parseMs)}, render ${seconds(t.renderMs)}, build ${seconds(t.buildMs)})`)
    io.out(`  client → server (${result.sendMethods.length}): ${result.sendMethods.join(', ')}`)
    io.out(`  server → client (${result.onMethods.length}): ${result.onMethods.join(', ')}`)
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
