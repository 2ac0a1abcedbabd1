/**
 * Wire `type` → AsyncAPI names, from the protocol's one PascalCase rule (the SDK generator derives
 * `sendFooBar()` / `onFooBar()` from the same function).
 */
import { pascalCase } from '../protocol/names.js'

export type Direction = 'client' | 'server'

/** `join_room` → `Join room`: a human title for renderers. */
export function titleOf (type: string): string {
  const words = type.replaceAll('_', ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** Component and channel message key: the same wire type exists both ways (`message`, `typing`). */
export function messageKey (direction: Direction, type: string): string {
  return `${direction}.${type}`
}

/** The server receives what clients send and sends what clients receive. */
export function operationId (direction: Direction, type: string): string {
  return (direction === 'client' ? 'receive' : 'send') + pascalCase(type)
}
