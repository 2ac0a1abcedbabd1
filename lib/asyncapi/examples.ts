/**
 * Message examples. Declared payload examples must validate against their schema (checked at
 * registration, so a stale example fails fast); a message without any gets one created from its
 * schema. The document shows each as a whole frame.
 */
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import type { TSchema } from 'typebox'
import { WsRegistrationError } from '../errors.js'
import { fieldWithoutExample, withStringDefaults } from './example-values.js'

interface Documented { readonly name: string, readonly payload: TSchema, readonly examples: readonly unknown[] }

/** The payload examples of a message: the declared ones, or one created from the schema. */
export function payloadExamples (def: Documented, side: 'client' | 'server'): unknown[] {
  const validator = Compile(def.payload)
  if (def.examples.length === 0) {
    let created: unknown
    try { created = Value.Create(withStringDefaults(def.payload)) } catch { created = undefined }
    if (created === undefined || !validator.Check(created)) {
      const field = fieldWithoutExample(def.payload)
      const first = field === undefined && created !== undefined ? [...validator.Errors(created)][0] : undefined
      const where = field !== undefined
        ? ` (field "${field.path}": ${field.why}; give that field \`examples: [...]\` or a \`default\`, or give the message \`examples\`)`
        : first !== undefined ? ` (field "${first.instancePath || '/'}": ${first.message}; give the message \`examples\`)` : ''
      throw new WsRegistrationError('WS_ERR_MISSING_EXAMPLE',
        `The ${side} message "${def.name}" needs \`examples\`: no valid example can be made from its schema, and the AsyncAPI document needs one${where}`)
    }
    return [created]
  }
  def.examples.forEach((example, index) => {
    if (validator.Check(example)) return
    const first = [...validator.Errors(example)][0]
    throw new WsRegistrationError('WS_ERR_INVALID_EXAMPLE',
      `Example ${index} of the ${side} message "${def.name}" does not match its payload schema` +
      (first === undefined ? '' : ` (at "${first.instancePath}": ${first.message})`))
  })
  return [...def.examples]
}

export interface FrameExample { name: string, payload: Record<string, unknown> }

const REQUEST_ID = 'r1'

export function clientFrameExamples (type: string, payloads: readonly unknown[]): FrameExample[] {
  return payloads.map((payload, i) => ({
    name: payloads.length === 1 ? type : `${type}_${i + 1}`,
    payload: { type, id: REQUEST_ID, payload },
  }))
}

export interface ServerDelivery { room: boolean, durable: boolean, reply: boolean }

export function serverFrameExamples (type: string, payloads: readonly unknown[], delivery: ServerDelivery): FrameExample[] {
  return payloads.map((payload, i) => {
    let frame: Record<string, unknown> = { type }
    if (delivery.room) {
      const own = (payload as { room?: unknown }).room
      frame.room = typeof own === 'string' ? own : 'general'
      if (delivery.durable) frame.seq = 42 + i
    } else if (delivery.reply) {
      frame.id = REQUEST_ID
    }
    frame = { ...frame, payload }
    return { name: payloads.length === 1 ? type : `${type}_${i + 1}`, payload: frame }
  })
}
