/**
 * The frame envelope, both ways. Client → server: `{"type", "id"?, "payload"?}`; server → client:
 * `{"type", "id"?, "room"?, "seq"?, "payload"}`, keys always in that order (see `stringify.ts`).
 */

/** Longest request id a client may send. */
export const MAX_ID_LENGTH = 64

/** The only keys a client frame may carry. */
export const CLIENT_FRAME_KEYS = ['type', 'id', 'payload'] as const

/** The keys of a server frame, in the order they are written. */
export const SERVER_FRAME_KEYS = ['type', 'id', 'room', 'seq', 'payload'] as const

/** Query parameter of the upgrade URL that carries the token (`/ws?token=…`). */
export const TOKEN_QUERY_PARAMETER = 'token'

/** A parsed client → server frame. */
export interface ClientFrame {
  readonly type: string
  readonly id: string | undefined
  /** `{}` when the frame carried no payload. */
  readonly payload: unknown
}

/** A parsed server → client frame. */
export interface ServerFrame {
  readonly type: string
  /** The request id, on a reply. */
  readonly id?: string
  /** The room, on a room delivery. */
  readonly room?: string
  /** The room's sequence number, on a durable room delivery. */
  readonly seq?: number
  readonly payload: unknown
}

/** `url` with `token` added as the token query parameter (unchanged when there is no token). */
export function urlWithToken (url: string, token: string | undefined): string {
  if (token === undefined || token === '') return url
  return url + (url.includes('?') ? '&' : '?') + TOKEN_QUERY_PARAMETER + '=' + encodeURIComponent(token)
}
