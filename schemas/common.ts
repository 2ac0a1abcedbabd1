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

export const EpochMs = Type.Integer({ minimum: 0, description: 'Milliseconds since the Unix epoch.' })

/** Request ids correlate a request with its single reply. */
export const RequestId = Type.String({ minLength: 1, maxLength: 64 })

/** The payload of messages that carry nothing. */
export const Empty = Type.Object({}, { additionalProperties: false })
