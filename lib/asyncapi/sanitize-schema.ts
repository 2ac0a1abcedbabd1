/**
 * TypeBox output → AsyncAPI Schema Objects the parser accepts.
 *
 * - JSON deep copy: drops TypeBox's hidden `~kind` keys (and any symbol keys).
 * - `$id` stripped: an inline `$id` makes the parser treat the schema as a separate resource.
 * - `$defs` (from `Type.Cyclic`) hoisted to `components.schemas`, and bare `$ref: 'Name'`
 *   (read by the parser as a file path) rewritten to `#/components/schemas/Name`.
 */
import { WsRegistrationError } from '../errors.js'

export type JsonSchema = Record<string, unknown>

const COMPONENT_REF = '#/components/schemas/'

/** Shared `components.schemas`, filled as payloads are sanitised. */
export type SchemaComponents = Record<string, JsonSchema>

export function sanitizeSchema (schema: unknown, components: SchemaComponents, where: string): JsonSchema {
  const copy = JSON.parse(JSON.stringify(schema)) as unknown
  return rewrite(copy, components, where) as JsonSchema
}

function rewrite (node: unknown, components: SchemaComponents, where: string): unknown {
  if (Array.isArray(node)) return node.map((item) => rewrite(item, components, where))
  if (typeof node !== 'object' || node === null) return node
  const out: JsonSchema = {}
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (key === '$id') continue
    if (key === '$defs' || key === 'definitions') {
      for (const [name, def] of Object.entries(value as JsonSchema)) addComponent(components, name, rewrite(def, components, where) as JsonSchema, where)
      continue
    }
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = rewriteRef(value)
      continue
    }
    out[key] = rewrite(value, components, where)
  }
  return out
}

function rewriteRef (ref: string): string {
  if (ref.startsWith('#/$defs/')) return COMPONENT_REF + ref.slice('#/$defs/'.length)
  if (ref.startsWith('#/definitions/')) return COMPONENT_REF + ref.slice('#/definitions/'.length)
  // A bare name (`Type.Ref('Node')`) names a definition; anything else is left for the parser to judge.
  if (/^[A-Za-z_][\w.-]*$/.test(ref)) return COMPONENT_REF + ref
  return ref
}

function addComponent (components: SchemaComponents, name: string, schema: JsonSchema, where: string): void {
  const existing = components[name]
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(schema)) {
    throw new WsRegistrationError('WS_ERR_SCHEMA_CONFLICT',
      `The payload schema of ${where} defines "${name}", which another message defines differently: give the definitions distinct names`)
  }
  components[name] = schema
}

/**
 * Titles for the inline object and enum schemas inside a named payload (`ServerErrorPayload` →
 * `details` items: `ServerErrorPayloadDetailsItem`), so that model generators name them instead
 * of numbering anonymous schemas. Refs and schemas with a title of their own are left alone.
 */
export function titleInlineSchemas (schema: JsonSchema, base: string): JsonSchema {
  const visit = (node: unknown, name: string, top: boolean): unknown => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return node
    const out: JsonSchema = { ...(node as JsonSchema) }
    if (out.$ref !== undefined) return out
    const word = (key: string): string => key.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase())
    if (isObjectSchema(out.properties)) {
      out.properties = Object.fromEntries(Object.entries(out.properties).map(([key, value]) => [key, visit(value, name + word(key), false)]))
    }
    if (isObjectSchema(out.items)) out.items = visit(out.items, name + 'Item', false)
    if (isObjectSchema(out.additionalProperties)) out.additionalProperties = visit(out.additionalProperties, name + 'Value', false)
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = out[key]
      if (Array.isArray(list)) out[key] = list.map((item, i) => visit(item, `${name}Option${i + 1}`, false))
    }
    const named = out.type === 'object' || out.properties !== undefined || Array.isArray(out.enum)
    if (!top && named && out.title === undefined) return { title: name, ...out }
    return out
  }
  return visit(schema, base, true) as JsonSchema
}

function isObjectSchema (value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
