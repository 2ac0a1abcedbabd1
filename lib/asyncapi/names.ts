/**
 * The one mapping from a wire `type` to its AsyncAPI names. The SDK generator derives
 * `sendFooBar()` / `onFooBar()` from the same PascalCase rule, so keep the two in step.
 */

export type Direction = 'client' | 'server'

/** `get_room_stats` → `GetRoomStats`. */
export function pascalCase (type: string): string {
  return type.split('_').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')
}

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
