/**
 * The envelope of a room frame on a cluster transport: `<seq>\n<except>\n<frame>`. The receiver
 * slices the frame out without parsing it; `seq` is empty for non-durable frames and `except` is
 * empty or the exclusions as JSON. The Redis publish script writes the same format.
 */
import type { Exclusions } from '../adapter.js'

export function encodeExclusions (except: Exclusions | undefined): string {
  if (except === undefined) return ''
  const users = except.users !== undefined && except.users.length > 0 ? except.users : undefined
  const connections = except.connections !== undefined && except.connections.length > 0 ? except.connections : undefined
  if (users === undefined && connections === undefined) return ''
  return JSON.stringify({ users, connections })
}

export function decodeExclusions (encoded: string): Exclusions | undefined {
  return encoded === '' ? undefined : JSON.parse(encoded) as Exclusions
}

export interface RoomEnvelope {
  readonly seq: number | undefined
  readonly except: Exclusions | undefined
  /** The frame's bytes, copied once out of the transport's buffer (which may be reused). */
  readonly data: Buffer
}

const NEWLINE = 10

export function parseRoomEnvelope (message: Buffer): RoomEnvelope | undefined {
  const first = message.indexOf(NEWLINE)
  const second = first < 0 ? -1 : message.indexOf(NEWLINE, first + 1)
  if (second < 0) return undefined
  const seq = first === 0 ? undefined : Number(message.toString('latin1', 0, first))
  if (seq !== undefined && !Number.isSafeInteger(seq)) return undefined
  let except: Exclusions | undefined
  if (second > first + 1) {
    try {
      except = JSON.parse(message.toString('utf8', first + 1, second)) as Exclusions
    } catch {
      return undefined
    }
  }
  return { seq, except, data: Buffer.from(message.subarray(second + 1)) }
}

/** A non-durable room frame. */
export function encodeRoomEnvelope (except: Exclusions | undefined, frame: string): string {
  return '\n' + encodeExclusions(except) + '\n' + frame
}

/** A durable room frame (`frame` already carries its `seq`); `except` is already encoded. */
export function encodeDurableEnvelope (seq: number, except: string, frame: string): string {
  return String(seq) + '\n' + except + '\n' + frame
}
