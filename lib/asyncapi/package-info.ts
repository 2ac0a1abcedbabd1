/**
 * Defaults for `info`: the app's own `package.json` (in `process.cwd()`), read once per process.
 * A missing or unreadable file is not an error: the defaults fall back to generic values.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface PackageContact { name?: string, email?: string, url?: string }

export interface PackageInfo {
  name: string | undefined
  version: string | undefined
  description: string | undefined
  /** The SPDX expression of `license`. */
  license: string | undefined
  /** From `author` (string or object), else `bugs` / `homepage` for the URL. */
  contact: PackageContact | undefined
}

let cached: PackageInfo | undefined

const text = (value: unknown): string | undefined => typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined

/** npm's `"Name <email> (url)"` person format, or its object form. */
function person (value: unknown): PackageContact {
  if (typeof value === 'object' && value !== null) {
    const { name, email, url } = value as Record<string, unknown>
    return { name: text(name), email: text(email), url: text(url) }
  }
  const raw = text(value)
  if (raw === undefined) return {}
  const match = /^([^<(]*)(?:<([^>]*)>)?\s*(?:\(([^)]*)\))?/.exec(raw)
  return { name: text(match?.[1]), email: text(match?.[2]), url: text(match?.[3]) }
}

function contactOf (pkg: Record<string, unknown>): PackageContact | undefined {
  const author = person(pkg.author)
  const bugs = typeof pkg.bugs === 'object' && pkg.bugs !== null ? pkg.bugs as Record<string, unknown> : { url: pkg.bugs }
  const contact: PackageContact = {}
  if (author.name !== undefined) contact.name = author.name
  const url = author.url ?? text(bugs.url) ?? text(pkg.homepage)
  if (url !== undefined) contact.url = url
  const email = author.email ?? text(bugs.email)
  if (email !== undefined) contact.email = email
  return Object.keys(contact).length > 0 ? contact : undefined
}

export function readPackageInfo (): PackageInfo {
  if (cached !== undefined) return cached
  try {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as Record<string, unknown>
    cached = { name: text(pkg.name), version: text(pkg.version), description: text(pkg.description), license: text(pkg.license), contact: contactOf(pkg) }
  } catch {
    cached = { name: undefined, version: undefined, description: undefined, license: undefined, contact: undefined }
  }
  return cached
}
