/**
 * Frame encoding. A server frame is encoded once and the same bytes are written to every
 * recipient (the broadcast hot path: string concatenation, no intermediate object). Key order is
 * fixed: type, id, room, seq, payload (`SERVER_FRAME_KEYS`).
 */

/** `{"type":"x"` — the start of every frame of a type. Types are validated identifiers. */
export function frameHead (type: string): string {
  return '{"type":"' + type + '"'
}

/** A reply or direct frame for one connection. */
export function encodeFrame (type: string, payload: unknown, id?: string): string {
  let head = frameHead(type)
  if (id !== undefined) head += ',"id":' + JSON.stringify(id)
  return head + ',"payload":' + JSON.stringify(payload) + '}'
}

/**
 * A room delivery is split around its `seq` so the adapter that allocates the sequence number
 * (in process, or inside Redis) can splice it in without parsing or re-serialising the payload.
 */
export interface RoomFrameParts {
  /** `{"type":"message","room":"general"` */
  readonly head: string
  /** `,"payload":{…}}` */
  readonly tail: string
}

export function roomFrameParts (type: string, room: string, payload: unknown): RoomFrameParts {
  return {
    head: frameHead(type) + ',"room":' + JSON.stringify(room),
    tail: ',"payload":' + JSON.stringify(payload) + '}',
  }
}

export function joinRoomFrame (parts: RoomFrameParts, seq: number | undefined): string {
  return seq === undefined ? parts.head + parts.tail : parts.head + ',"seq":' + seq + parts.tail
}

/** A client → server request: `{"type":"x","id":"1","payload":{…}}`. */
export function encodeClientFrame (type: string, id: string, payload: unknown): string {
  return frameHead(type) + ',"id":' + JSON.stringify(id) + ',"payload":' + JSON.stringify(payload ?? {}) + '}'
}
