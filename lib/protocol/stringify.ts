/**
 * Frame encoding. A server frame is encoded once and the same bytes are written to every
 * recipient (the broadcast hot path: string concatenation, no intermediate object). Key order is
 * fixed: type, id, room, seq, payload (`SERVER_FRAME_KEYS`).
 */

/** `{"type":"x"` — the start of every frame of a type. Types are validated identifiers. */
export function frameHead (type: string): string {
  return '{"type":"' + type + '"'
}

/**
 * The payload as JSON. `JSON.stringify` answers `undefined` (not a string) for `undefined`, a
 * function or a symbol, which would put the word `undefined` on the wire: refused here, loudly.
 */
export function payloadJson (type: string, payload: unknown): string {
  const json = JSON.stringify(payload)
  if (json === undefined) {
    throw Object.assign(new TypeError(`The payload of "${type}" is ${typeof payload}: a frame's payload must be a JSON value (an object for every declared message)`), { code: 'WS_ERR_INVALID_PAYLOAD' })
  }
  return json
}

/** A reply or direct frame for one connection. */
export function encodeFrame (type: string, payload: unknown, id?: string): string {
  let head = frameHead(type)
  if (id !== undefined) head += ',"id":' + JSON.stringify(id)
  return head + ',"payload":' + payloadJson(type, payload) + '}'
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
    tail: ',"payload":' + payloadJson(type, payload) + '}',
  }
}

export function joinRoomFrame (parts: RoomFrameParts, seq: number | undefined): string {
  return seq === undefined ? parts.head + parts.tail : parts.head + ',"seq":' + seq + parts.tail
}

/** A client → server request: `{"type":"x","id":"1","payload":{…}}`. */
export function encodeClientFrame (type: string, id: string, payload: unknown): string {
  return frameHead(type) + ',"id":' + JSON.stringify(id) + ',"payload":' + JSON.stringify(payload ?? {}) + '}'
}
