/**
 * The TypeScript compiler API the generator needs (to build the package, and inside
 * @hey-api/openapi-ts). TypeScript 7 (the native compiler) no longer has it, so an app on 7 installs
 * a 5.x copy beside it under an npm alias, `typescript-5`, and the generator uses that one.
 */
import { createRequire, register } from 'node:module'
import { pathToFileURL } from 'node:url'
import type TS from 'typescript'
import { SdkGenError } from './errors.js'

const require = createRequire(import.meta.url)

/** npm alias an app on TypeScript ≥ 7 installs: `npm i -D typescript-5@npm:typescript@5.9.3`. */
export const COMPILER_ALIAS = 'typescript-5'
export const COMPILER_INSTALL = `npm install --save-dev ${COMPILER_ALIAS}@npm:typescript@5.9.3`

export interface Compiler {
  readonly ts: typeof TS
  /** Absolute path of its entry file. */
  readonly entry: string
  readonly version: string
}

let found: Compiler | undefined

/** `typescript` when it has the compiler API (5.x, 6.x), else the `typescript-5` alias. */
export function compilerApi (): Compiler {
  if (found !== undefined) return found
  const seen: string[] = []
  for (const name of ['typescript', COMPILER_ALIAS]) {
    let entry: string
    try {
      entry = require.resolve(name)
    } catch {
      continue
    }
    const ts = require(entry) as typeof TS
    if (typeof ts.createProgram === 'function') return (found = { ts, entry, version: ts.version })
    seen.push(`${name} ${ts.version}`)
  }
  if (seen.length === 0) {
    throw new SdkGenError('SDK_ERR_TYPESCRIPT', 'The SDK generator needs typescript 5.x or 6.x (its compiler API), not installed here: npm install --save-dev typescript@5')
  }
  throw new SdkGenError('SDK_ERR_TYPESCRIPT',
    `The SDK generator needs the TypeScript compiler API (5.x or 6.x), which TypeScript 7 no longer has (found ${seen.join(', ')}). ` +
    `Keep your TypeScript and add a 5.x copy beside it: ${COMPILER_INSTALL}`)
}

let redirected = false

/**
 * Make `import 'typescript'` inside @hey-api/* load `compiler` (a module resolve hook), when it
 * would otherwise load another copy (an app's TypeScript 7, on which it crashes at import).
 */
export function redirectTypeScriptImports (fromEntry: string, compiler: Compiler): void {
  let theirs: string | undefined
  try {
    theirs = createRequire(fromEntry).resolve('typescript')
  } catch { /* none: redirect */ }
  if (theirs === compiler.entry || redirected) return
  redirected = true
  const target = JSON.stringify(pathToFileURL(compiler.entry).href)
  const hooks = `export async function resolve (specifier, context, next) {
  if (specifier === 'typescript' && context.parentURL !== undefined && context.parentURL.includes('/@hey-api/')) return { url: ${target}, format: 'commonjs', shortCircuit: true }
  return next(specifier, context)
}`
  register('data:text/javascript,' + encodeURIComponent(hooks))
}
