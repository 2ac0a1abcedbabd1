import { Type } from 'typebox'

/** Room names: 1–128 characters from letters, digits and `_ - . : @ # /`. */
export const ROOM_NAME_PATTERN = '^[A-Za-z0-9_.:@#/-]{1,128}$'

export const RoomName = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: ROOM_NAME_PATTERN,
  description: 'Room name: 1–128 characters from letters, digits and `_ - . : @ # /`.',
})

export const UserId = Type.String({ minLength: 1, description: 'The user id (the JWT `sub` claim).' })

export const Seq = Type.Integer({ minimum: 0, description: 'Per-room sequence number of durable messages: 1, 2, 3…' })

export const MemberCount = Type.Integer({ minimum: 0, description: 'Distinct users in the room, cluster-wide.' })

/** Optional on the wire: servers whose adapter keeps no presence version send none. */
export const PresenceVersion = Type.Integer({
  minimum: 0,
  description: 'The room\'s presence version: grows with every arrival and departure in the room, cluster-wide. Announcements of two instances may arrive out of order: drop a `user_joined`/`user_left` whose version is not above that of the list you hold, or of the last one you applied for that user. Absent when the server\'s adapter keeps none.',
})

export const EpochMs = Type.Integer({ minimum: 0, description: 'Milliseconds since the Unix epoch.' })

/** Request ids correlate a request with its single reply. */
export const RequestId = Type.String({ minLength: 1, maxLength: 64 })

/** The payload of messages that carry nothing. */
export const Empty = Type.Object({}, { additionalProperties: false })
