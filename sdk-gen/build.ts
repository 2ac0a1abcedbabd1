/**
 * Compile the generated package (src/ → dist/: ESM JavaScript + .d.ts) with the project's
 * TypeScript, using the package's own tsconfig.json, so users install it with no toolchain.
 */
import { join } from 'node:path'
import type ts from 'typescript'
import { compilerApi } from './compiler.js'

/** Returns formatted diagnostics; empty when the build succeeded. */
export function buildPackage (dir: string): string[] {
  const { ts } = compilerApi()
  const configPath = join(dir, 'tsconfig.json')
  const read = ts.readConfigFile(configPath, ts.sys.readFile)
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  }
  if (read.error !== undefined) return [ts.formatDiagnostics([read.error], host)]
  const config = ts.parseJsonConfigFileContent(read.config, ts.sys, dir)
  const program = ts.createProgram(config.fileNames, config.options)
  const emitted = program.emit()
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
  return diagnostics.map((d) => ts.formatDiagnostic(d, host).trimEnd())
}
