'use strict'
/**
 * A small JSON Schema → TypeScript type printer for message payloads.
 *
 * Covers what payload schemas use: objects (required/optional, closed or open, index
 * signatures from additionalProperties / patternProperties), arrays and tuples, unions
 * (anyOf/oneOf, type arrays), intersections (allOf), enum and const literals. Component
 * schemas (the parser tags them with `x-parser-schema-id`) print as their type name, which
 * also ends reference cycles. Anything it cannot express is `unknown`, never a wrong type.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * @param {unknown} schema
 * @param {{ named: Map<string, string>, root?: unknown }} context component schema id → type name
 * @param {string} [indent]
 * @returns {string}
 */
function schemaToTs (schema, context, indent = '') {
  return print(schema, context, indent, new Set())
}

function print (schema, context, indent, stack) {
  if (schema === true || schema === undefined) return 'unknown'
  if (schema === false) return 'never'
  if (typeof schema !== 'object' || schema === null) return 'unknown'

  const id = schema['x-parser-schema-id']
  if (schema !== context.root && typeof id === 'string' && context.named.has(id)) return context.named.get(id)
  if (stack.has(schema)) return 'unknown'
  stack.add(schema)
  try {
    return printInner(schema, context, indent, stack)
  } finally {
    stack.delete(schema)
  }
}

function printInner (schema, context, indent, stack) {
  if ('const' in schema) return literal(schema.const)
  if (Array.isArray(schema.enum)) return schema.enum.length === 0 ? 'never' : schema.enum.map(literal).join(' | ')

  const parts = []
  const alternatives = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  if (alternatives !== undefined) {
    parts.push(union(alternatives.map((s) => print(s, context, indent, stack))))
  }
  if (Array.isArray(schema.allOf)) {
    parts.push(...schema.allOf.map((s) => wrap(print(s, context, indent, stack))))
  }
  const own = printOwn(schema, context, indent, stack)
  if (own !== undefined) parts.push(wrap(own))
  if (parts.length === 0) return 'unknown'
  return parts.length === 1 ? parts[0] : parts.map(wrap).join(' & ')
}

/** The type from `type` and its keywords, or undefined when the schema says nothing itself. */
function printOwn (schema, context, indent, stack) {
  let types = schema.type
  if (types === undefined) {
    if (schema.properties !== undefined || schema.additionalProperties !== undefined || schema.patternProperties !== undefined) types = 'object'
    else if (schema.items !== undefined || schema.prefixItems !== undefined) types = 'array'
    else return undefined
  }
  const list = Array.isArray(types) ? types : [types]
  return union(list.map((type) => {
    switch (type) {
      case 'string': return 'string'
      case 'number':
      case 'integer': return 'number'
      case 'boolean': return 'boolean'
      case 'null': return 'null'
      case 'array': return printArray(schema, context, indent, stack)
      case 'object': return printObject(schema, context, indent, stack)
      default: return 'unknown'
    }
  }))
}

function printArray (schema, context, indent, stack) {
  const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : undefined
  if (tuple !== undefined) {
    const rest = Array.isArray(schema.prefixItems) ? schema.items : schema.additionalItems
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0
    const elements = tuple.map((s, i) => print(s, context, indent, stack) + (i < min ? '' : '?'))
    if (rest !== undefined && rest !== false) elements.push('...Array<' + print(rest, context, indent, stack) + '>')
    return '[' + elements.join(', ') + ']'
  }
  return 'Array<' + print(schema.items, context, indent, stack) + '>'
}

function printObject (schema, context, indent, stack) {
  const properties = isObject(schema.properties) ? schema.properties : {}
  const required = new Set(Array.isArray(schema.required) ? schema.required : [])
  const inner = indent + '  '
  const lines = []
  const propertyTypes = []
  for (const [key, value] of Object.entries(properties)) {
    const type = print(value, context, inner, stack)
    propertyTypes.push(type)
    const doc = describe(value)
    if (doc !== undefined) lines.push(inner + '/** ' + doc + ' */')
    lines.push(inner + propertyKey(key) + (required.has(key) ? '' : '?') + ': ' + type)
  }
  const extra = []
  if (isObject(schema.additionalProperties) || schema.additionalProperties === true) extra.push(schema.additionalProperties)
  if (isObject(schema.patternProperties)) extra.push(...Object.values(schema.patternProperties))
  if (extra.length > 0) {
    // An index signature must admit every named property's type too.
    const valueType = union([...extra.map((s) => print(s, context, inner, stack)), ...propertyTypes])
    lines.push(inner + '[key: string]: ' + valueType)
  }
  if (lines.length === 0) {
    // `{}` in TypeScript means "anything but null": say what the schema says instead.
    return schema.additionalProperties === false ? 'Record<string, never>' : 'Record<string, unknown>'
  }
  return '{\n' + lines.join('\n') + '\n' + indent + '}'
}

/** A one-line doc comment from description and the constraints TypeScript cannot express. */
function describe (schema) {
  if (!isObject(schema)) return undefined
  const notes = []
  if (typeof schema.description === 'string') notes.push(schema.description.replace(/\s+/g, ' ').trim())
  const limits = []
  const length = range(schema.minLength, schema.maxLength)
  if (length !== undefined) limits.push('length ' + length)
  const value = range(schema.minimum, schema.maximum)
  if (schema.type === 'integer') limits.push(value === undefined ? 'integer' : 'integer ' + value)
  else if (value !== undefined) limits.push(value)
  if (typeof schema.pattern === 'string') limits.push('pattern `' + schema.pattern + '`')
  if (typeof schema.format === 'string') limits.push('format ' + schema.format)
  if (limits.length > 0) notes.push('(' + limits.join(', ') + ')')
  if (notes.length === 0) return undefined
  return notes.join(' ').replace(/\*\//g, '*\\/')
}

function range (min, max) {
  if (min !== undefined && max !== undefined) return `${min}–${max}`
  if (min !== undefined) return `≥ ${min}`
  if (max !== undefined) return `≤ ${max}`
  return undefined
}

function union (types) {
  const unique = [...new Set(types)]
  if (unique.includes('unknown')) return 'unknown'
  if (unique.length === 0) return 'never'
  return unique.length === 1 ? unique[0] : unique.map(wrap).join(' | ')
}

/** Parenthesise a type that is itself a union or intersection, so composing stays correct. */
function wrap (type) {
  let depth = 0
  let quoted = false
  for (let i = 0; i < type.length; i++) {
    const c = type[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') quoted = true
    else if ('{[(<'.includes(c)) depth++
    else if ('}])>'.includes(c)) depth--
    else if (depth === 0 && (c === '|' || c === '&')) return '(' + type + ')'
  }
  return type
}

function literal (value) {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return JSON.stringify(value)
  return 'unknown'
}

function propertyKey (key) {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key)
}

function isObject (value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

module.exports = { schemaToTs, describe }
