/**
 * Unknown option keys: in plain JavaScript a typo (`rateLimt`) would silently fall back to a
 * default. Reject it at registration, naming the key and the nearest known one.
 */
import { WsRegistrationError } from './errors.js'

/** Every key of `T`, as a checked table: adding an option without listing it fails to compile. */
export type KeyTable<T> = { readonly [K in keyof Required<T>]: true }

/** Keys that were options once and moved: the message says where. */
export type MovedKeys = Readonly<Record<string, string>>

export function checkOptionKeys (given: object, known: KeyTable<object>, where: string, moved: MovedKeys = {}): void {
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(known, key)) continue
    const name = where === '' ? key : `${where}.${key}`
    const hint = moved[key] ?? nearestHint(key, Object.keys(known))
    throw new WsRegistrationError('WS_ERR_INVALID_OPTION', `Unknown option "${name}"${hint}`)
  }
}

function nearestHint (key: string, known: readonly string[]): string {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) { best = candidate; bestDistance = distance }
  }
  // Only a plausible typo is worth suggesting: at most a third of the name differs.
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3))) return `: did you mean "${best}"?`
  return `: known options are ${known.map((name) => `"${name}"`).join(', ')}`
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]!
}
