/**
 * Server-side control of a user's connections (add to a room, remove from a room, set the presence
 * state in a room, disconnect),
 * as it travels to every instance: on the user's channel, next to the frames sent to the user, so
 * it reaches exactly the instances that hold the user's connections, in order with those frames.
 * Frames always start with `{`; a control starts with `!`, then JSON. `app.ws` and the emitter
 * write it; the hub reads it where user deliveries arrive (`Delivery.deliverToUser`).
 */
import { assertRoomName } from './room-name.js'

/** First byte of a control on a user's channel (`!`); encoded frames start with `{`. */
export const CONTROL_MARK = 0x21

/** Whom a control applies to. */
export interface ControlTarget {
  /** Every connection of this user, on every instance. */
  readonly userId: string
  /** Only this connection of the user (e.g. `ctx.connection.id`). */
  readonly connectionId?: string
}

export type UserControl =
  | { readonly op: 'join', readonly room: string, readonly connectionId?: string }
  | { readonly op: 'remove', readonly room: string, readonly reason: string, readonly connectionId?: string }
  | { readonly op: 'disconnect', readonly reason: string, readonly connectionId?: string }
  | { readonly op: 'presence', readonly room: string, readonly state: unknown, readonly connectionId?: string }

/** Longest reason kept; a close reason is further limited to 123 bytes by the WebSocket protocol. */
const MAX_REASON = 200

export const DEFAULT_REMOVE_REASON = 'Removed by the server'
export const DEFAULT_DISCONNECT_REASON = 'Disconnected by the server'

/** Check the app's arguments and build the control (throws on a bad target, room or reason: a bug in the app). */
export function buildControl (op: Exclude<UserControl['op'], 'presence'>, target: ControlTarget, room?: string, reason?: string): UserControl {
  const connectionId = checkTarget(target)
  if (reason !== undefined && typeof reason !== 'string') throw new TypeError('reason must be a string')
  const only = connectionId === undefined ? {} : { connectionId }
  if (op === 'disconnect') return { op, reason: clip(reason ?? DEFAULT_DISCONNECT_REASON), ...only }
  assertRoomName(room)
  return op === 'join' ? { op, room, ...only } : { op, room, reason: clip(reason ?? DEFAULT_REMOVE_REASON), ...only }
}

/** The control that sets the target's presence state in `room` (the state is validated by the caller). */
export function buildPresenceControl (target: ControlTarget, room: string, state: unknown): UserControl {
  const connectionId = checkTarget(target)
  assertRoomName(room)
  return connectionId === undefined ? { op: 'presence', room, state } : { op: 'presence', room, state, connectionId }
}

function checkTarget (target: ControlTarget): string | undefined {
  if (typeof target?.userId !== 'string' || target.userId === '') throw new TypeError('The control target needs a userId (a non-empty string)')
  const connectionId = target.connectionId
  if (connectionId !== undefined && (typeof connectionId !== 'string' || connectionId === '')) throw new TypeError('target.connectionId must be a non-empty string when given')
  return connectionId
}

export function encodeUserControl (control: UserControl): string {
  return '!' + JSON.stringify(control)
}

/** The control in a user-channel message that starts with `CONTROL_MARK`; undefined when malformed. */
export function parseUserControl (data: Buffer): UserControl | undefined {
  let value: unknown
  try {
    value = JSON.parse(data.toString('utf8', 1))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { op, room, reason, connectionId } = value as Record<string, unknown>
  if (connectionId !== undefined && typeof connectionId !== 'string') return undefined
  if (op === 'disconnect') return typeof reason === 'string' ? value as UserControl : undefined
  if (typeof room !== 'string') return undefined
  if (op === 'join') return value as UserControl
  if (op === 'presence' && 'state' in value) return value as UserControl
  if (op === 'remove' && typeof reason === 'string') return value as UserControl
  return undefined
}

function clip (text: string): string {
  return text.length <= MAX_REASON ? text : text.slice(0, MAX_REASON - 1) + '…'
}

/** `reason` cut to fit a WebSocket close frame (at most 123 bytes of UTF-8), on a character boundary. */
export function closeReason (reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason
  let out = ''
  for (const char of reason) {
    if (Buffer.byteLength(out + char + '…') > 123) break
    out += char
  }
  return out + '…'
}
