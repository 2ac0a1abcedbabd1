/**
 * Messages travel as JSON and are published as JSON Schema (AsyncAPI). Reject, at registration,
 * the TypeBox types JSON cannot carry (Date, Uint8Array, bigint, undefined, functions…).
 */
import { WsRegistrationError } from './errors.js'

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'])

export function checkSchemaSupported (schema: unknown, where: string): void {
  const problem = findUnsupported(schema, '#')
  if (problem !== undefined) {
    throw new WsRegistrationError('WS_ERR_UNSUPPORTED_SCHEMA',
      `The payload schema of ${where} uses ${problem}: messages are JSON, so use JSON types (e.g. an ISO string or epoch number for dates, base64 for bytes)`)
  }
  const dangling = findUnresolvedRef(schema)
  if (dangling !== undefined) {
    throw new WsRegistrationError('WS_ERR_UNSUPPORTED_SCHEMA',
      `The payload schema of ${where} uses Type.Ref(${JSON.stringify(dangling)}) without defining "${dangling}" in the same schema: declare recursive types with Type.Cyclic`)
  }
}

function findUnsupported (schema: unknown, path: string): string | undefined {
  if (typeof schema !== 'object' || schema === null) {
    return typeof schema === 'boolean' ? undefined : `a non-schema value at ${path}`
  }
  if (Array.isArray(schema)) {
    for (let i = 0; i < schema.length; i++) {
      const found = findUnsupported(schema[i], `${path}/${i}`)
      if (found !== undefined) return found
    }
    return undefined
  }
  const record = schema as Record<string, unknown>
  const type = record.type
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type]
  for (const t of types) {
    if (typeof t !== 'string' || !JSON_TYPES.has(t)) return `type ${JSON.stringify(t)} at ${path}`
  }
  for (const key of ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions']) {
    const map = record[key]
    if (typeof map === 'object' && map !== null) {
      for (const [name, sub] of Object.entries(map)) {
        const found = findUnsupported(sub, `${path}/${key}/${name}`)
        if (found !== undefined) return found
      }
    }
  }
  for (const key of ['items', 'prefixItems', 'additionalItems', 'additionalProperties', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'not', 'anyOf', 'oneOf', 'allOf', 'if', 'then', 'else', 'contains']) {
    if (record[key] !== undefined) {
      const found = findUnsupported(record[key], `${path}/${key}`)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/**
 * A bare `$ref: 'Name'` (`Type.Ref`) must name a definition in the same schema (`Type.Cyclic`
 * puts them in `$defs`): the published document turns it into `#/components/schemas/Name`, and a
 * dangling one would make the document invalid.
 */
function findUnresolvedRef (schema: unknown): string | undefined {
  const defined = new Set<string>()
  const refs: string[] = []
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return
    if (Array.isArray(node)) { node.forEach(walk); return }
    const record = node as Record<string, unknown>
    for (const key of ['$defs', 'definitions']) {
      const defs = record[key]
      if (typeof defs === 'object' && defs !== null) for (const name of Object.keys(defs)) defined.add(name)
    }
    if (typeof record.$ref === 'string' && !record.$ref.includes('#') && !record.$ref.includes('/')) refs.push(record.$ref)
    for (const value of Object.values(record)) walk(value)
  }
  walk(schema)
  return refs.find((ref) => !defined.has(ref))
}
