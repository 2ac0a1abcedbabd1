/**
 * The `history` plugin option (the REST history route): its type, with documented defaults, and
 * the check that fails fast at registration.
 */
import { invalidOption } from './errors.js'
import type { WsUser } from './types.js'

/** A message of the app's own store: a durable server message of the room, with its `seq`. */
export interface StoredRoomMessage {
  readonly seq: number
  readonly type: string
  readonly payload: object
}

export interface HistoryRouteOptions {
  /** The route; `:room` is the room. @default '/rooms/:room/history' */
  path?: string
  /** Messages in a page when the request gives no `limit`. @default 50 */
  defaultLimit?: number
  /** Largest `limit` a request may ask for. @default 200 */
  maxLimit?: number
  /**
   * The app's own store of room messages, asked for what is older than the adapter still keeps
   * (the adapter keeps a bounded, recent history): the newest `limit` messages with
   * `seq < before`, in any order. Without it a page ends where the adapter's history ends.
   * @default none
   */
  load?: (room: string, page: { before: number, limit: number, user: WsUser }) => readonly StoredRoomMessage[] | Promise<readonly StoredRoomMessage[]>
  /**
   * The operation's OpenAPI `security`: name your `@fastify/swagger` bearer scheme here, so the
   * generated REST half sends the token. Ignored with `auth: false`.
   * @default [{ bearerAuth: [] }]
   */
  security?: ReadonlyArray<Record<string, readonly string[]>>
}

export interface ResolvedHistoryOptions {
  path: string
  defaultLimit: number
  maxLimit: number
  load: HistoryRouteOptions['load']
  security: ReadonlyArray<Record<string, readonly string[]>>
}

export function resolveHistoryOptions (given: HistoryRouteOptions | boolean | undefined): ResolvedHistoryOptions | undefined {
  if (given === undefined || given === false) return undefined
  const options = given === true ? {} : given
  if (typeof options !== 'object' || options === null) throw invalidOption('history', 'true, false or an object', given)
  const path = options.path ?? '/rooms/:room/history'
  if (typeof path !== 'string' || !path.startsWith('/') || !path.includes(':room')) throw invalidOption('history.path', 'a route path with a ":room" parameter', path)
  const limit = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidOption(name, 'a positive integer', value)
    return value
  }
  const maxLimit = limit('history.maxLimit', options.maxLimit, 200)
  const defaultLimit = limit('history.defaultLimit', options.defaultLimit, Math.min(50, maxLimit))
  if (defaultLimit > maxLimit) throw invalidOption('history.defaultLimit', `an integer ≤ history.maxLimit (${maxLimit})`, defaultLimit)
  if (options.load !== undefined && typeof options.load !== 'function') throw invalidOption('history.load', 'a function', options.load)
  return { path, defaultLimit, maxLimit, load: options.load, security: options.security ?? [{ bearerAuth: [] }] }
}

