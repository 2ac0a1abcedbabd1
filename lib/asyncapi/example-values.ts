/**
 * Example values for strings TypeBox cannot invent (`Value.Create` refuses a `format` or
 * `pattern` without a `default`): a copy of the schema where such strings get a default, a
 * valid value for the common formats or the field's own first `examples` entry. The copy keeps
 * TypeBox's hidden (non-enumerable) keys, so `Value.Create` still recognises every type.
 */

/** One valid value per common JSON Schema format. */
export const FORMAT_EXAMPLES: Readonly<Record<string, string>> = {
  'date-time': '2024-01-01T12:00:00Z',
  date: '2024-01-01',
  time: '12:00:00Z',
  duration: 'P1D',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  'uri-reference': '/path',
  iri: 'https://example.com/',
  'iri-reference': '/path',
  'uri-template': 'https://example.com/{id}',
  uuid: '00000000-0000-4000-8000-000000000000',
  'json-pointer': '/path',
  'relative-json-pointer': '0',
  regex: '^[a-z]+$',
}

/** A copy of `schema` in which strings with a `format` or `pattern` carry a default when one can be given. */
export function withStringDefaults<T> (schema: T): T {
  if (typeof schema !== 'object' || schema === null) return schema
  if (Array.isArray(schema)) return schema.map((item: unknown) => withStringDefaults(item)) as T
  const copy = Object.create(Object.getPrototypeOf(schema)) as Record<string, unknown>
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(schema))) {
    if ('value' in descriptor) descriptor.value = withStringDefaults(descriptor.value)
    Object.defineProperty(copy, key, descriptor)
  }
  if (copy.type === 'string' && copy.default === undefined && (copy.format !== undefined || copy.pattern !== undefined)) {
    const own = Array.isArray(copy.examples) && typeof copy.examples[0] === 'string' ? copy.examples[0] : undefined
    const known = copy.pattern === undefined && typeof copy.format === 'string' ? FORMAT_EXAMPLES[copy.format] : undefined
    const value = own ?? known
    if (value !== undefined) Object.defineProperty(copy, 'default', { value, writable: true, enumerable: true, configurable: true })
  }
  return copy as T
}

/**
 * The path (`/a/b`) of the first string field no example can be made for: a `pattern`, or a
 * format without a known example, and neither `default` nor `examples`.
 */
export function fieldWithoutExample (schema: unknown, path = ''): { path: string, why: string } | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined
  if (Array.isArray(schema)) {
    for (const item of schema) {
      const found = fieldWithoutExample(item, path)
      if (found !== undefined) return found
    }
    return undefined
  }
  const record = schema as Record<string, unknown>
  if (record.type === 'string' && record.default === undefined && !Array.isArray(record.examples)) {
    if (record.pattern !== undefined) return { path: path || '/', why: `it has a pattern (${String(record.pattern)})` }
    if (typeof record.format === 'string' && FORMAT_EXAMPLES[record.format] === undefined) return { path: path || '/', why: `no example is known for format "${record.format}"` }
  }
  const properties = record.properties
  if (typeof properties === 'object' && properties !== null) {
    for (const [name, sub] of Object.entries(properties)) {
      const found = fieldWithoutExample(sub, `${path}/${name}`)
      if (found !== undefined) return found
    }
  }
  for (const key of ['items', 'anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const found = fieldWithoutExample(record[key], key === 'items' || key === 'prefixItems' ? `${path}/0` : path)
    if (found !== undefined) return found
  }
  return undefined
}
