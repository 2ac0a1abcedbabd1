/**
 * The AsyncAPI half's tools — @asyncapi/parser, @asyncapi/generator and the generator's React SDK —
 * loaded only when an AsyncAPI document is involved: they are optional peers, and an OpenAPI-only
 * run (or `--help`) must work without them.
 */
import { createRequire } from 'node:module'
import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Diagnostic } from '@asyncapi/parser'
import { SdkGenError } from './errors.js'

/** The optional peers an AsyncAPI document needs (TypeScript, for the build, is checked by compiler.ts). */
export const ASYNCAPI_PEERS = ['@asyncapi/generator', '@asyncapi/parser'] as const

export interface AsyncApiToolchain {
  /** Parse and validate a document; `SDK_ERR_PARSE` with one line per diagnostic when invalid. */
  parse: (text: string, source: string) => Promise<unknown>
  /** Render the template into `outDir`. */
  render: (template: string, document: unknown, outDir: string, packageName: string) => Promise<void>
  /** The node_modules folder holding the generator's own @asyncapi/generator-react-sdk (templates import it). */
  reactSdkModules: string
}

type GeneratorClass = new (template: string, out: string, options: object) => { generate(doc: unknown): Promise<void> }

/** Load the tools from where this package is installed, or say which peers to install. */
export async function loadAsyncApiToolchain (from: string = fileURLToPath(import.meta.url)): Promise<AsyncApiToolchain> {
  const require = createRequire(from)
  const missing = ASYNCAPI_PEERS.filter((name) => { try { require.resolve(name); return false } catch { return true } })
  if (missing.length > 0) {
    throw new SdkGenError('SDK_ERR_MISSING_DEPENDENCY',
      `An AsyncAPI document needs ${missing.join(' and ')} (optional peer dependencies of fastify-ws-rooms), not installed here. ` +
      `Install them where you run fastify-ws-rooms-sdk: npm install --save-dev ${ASYNCAPI_PEERS.join(' ')}`)
  }
  const { Parser } = load<typeof import('@asyncapi/parser')>(require, '@asyncapi/parser')
  const Generator = load<GeneratorClass>(require, '@asyncapi/generator')
  return {
    parse: async (text, source) => {
      const { document, diagnostics } = await new Parser().parse(text, { source })
      if (document === undefined) {
        const lines = formatDiagnostics(diagnostics, source)
        throw new SdkGenError('SDK_ERR_PARSE', `${source} is not a valid AsyncAPI document:\n${lines.join('\n')}`, lines)
      }
      return document
    },
    render: async (template, document, outDir, packageName) => {
      await new Generator(template, outDir, { forceWrite: true, templateParams: { packageName } }).generate(document)
    },
    reactSdkModules: reactSdkModulesOf(require.resolve('@asyncapi/generator')),
  }
}

/** Require an installed peer; one that cannot load its own dependencies says so, without a stack. */
function load<T> (require: NodeJS.Require, name: string): T {
  try {
    return require(name) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err
    const missing = /Cannot find module '([^']+)'/.exec((err as Error).message)?.[1] ?? (err as Error).message
    throw new SdkGenError('SDK_ERR_MISSING_DEPENDENCY',
      `${name} is installed but cannot load ${missing}, a module it needs. Reinstall it; with pnpm, keep the default hoist=true ` +
      '(some @asyncapi packages use modules they do not declare)')
  }
}

/**
 * The node_modules folder that holds the @asyncapi/generator-react-sdk the generator at
 * `generatorEntry` uses. Resolved from the generator's own (real) location: with npm it is usually
 * hoisted beside this package, but pnpm links a package's dependencies only beside that package.
 */
export function reactSdkModulesOf (generatorEntry: string): string {
  const entry = createRequire(generatorEntry).resolve('@asyncapi/generator-react-sdk')
  const at = entry.lastIndexOf(`${sep}node_modules${sep}`)
  return entry.slice(0, at + `${sep}node_modules`.length)
}

const SEVERITY = ['error', 'warning', 'info', 'hint']

/** One line per diagnostic: severity, line:column, JSON path, message. */
export function formatDiagnostics (diagnostics: Diagnostic[], source: string): string[] {
  const rel = relative(process.cwd(), source)
  const shown = rel === '' || rel.startsWith('..') || /^https?:/.test(source) ? source : rel
  return diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => {
      const at = d.range === undefined ? '' : `${d.range.start.line + 1}:${d.range.start.character + 1}`
      const path = d.path.length === 0 ? '' : ' /' + d.path.join('/')
      return `  ${SEVERITY[d.severity] ?? 'error'} ${shown}:${at}${path} — ${d.message} (${String(d.code)})`
    })
}
