/**
 * Defaults for `info`: the app's own `package.json` (in `process.cwd()`), read once per process.
 * A missing or unreadable file is not an error: the defaults fall back to generic values.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface PackageInfo {
  name: string | undefined
  version: string | undefined
  description: string | undefined
}

let cached: PackageInfo | undefined

const text = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

export function readPackageInfo (): PackageInfo {
  if (cached !== undefined) return cached
  try {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as Record<string, unknown>
    cached = { name: text(pkg.name), version: text(pkg.version), description: text(pkg.description) }
  } catch {
    cached = { name: undefined, version: undefined, description: undefined }
  }
  return cached
}
