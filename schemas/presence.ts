/**
 * The presence-state messages, built from the app's state schema (`defineProtocol().presence()`).
 * Without a declared state none of this is in the catalog, the AsyncAPI document or the client.
 */
import { Type, type TObject, type TSchema } from 'typebox'
import { ROOM_NAME_PATTERN, RoomName, UserId } from './common.js'

/** `RoomName` with an example, so the document's example of `set_presence` can be made from the schema. */
const ExampleRoom = Type.String({ minLength: 1, maxLength: 128, pattern: ROOM_NAME_PATTERN, description: (RoomName as { description?: string }).description, examples: ['general'] })

const STATE_RULE = 'A user\'s state is the one most recently set by any of their connections still in the room.'

/** `presence_updated`: a member's merged state changed (delivered to the room, not durable). */
export function presenceUpdatedPayload<P extends TSchema> (state: P) {
  return Type.Object({
    userId: UserId,
    state: Type.Optional(state),
  }, { additionalProperties: false })
}

/** `set_presence`: this connection's state in a room it joined. */
export function setPresencePayload<P extends TSchema> (state: P) {
  return Type.Object({ room: ExampleRoom, state }, { additionalProperties: false })
}

export type PresenceUpdatedPayload<P extends TSchema> = ReturnType<typeof presenceUpdatedPayload<P>>
export type SetPresencePayload<P extends TSchema> = ReturnType<typeof setPresencePayload<P>>

export const presenceDocs = {
  presence_updated: {
    summary: 'A member\'s presence state in a room changed. Sent while the room has at most `presence.listLimit` members.',
    description: `${STATE_RULE} Without \`state\`, the user has none any more (the connections that set one left; the user is still in the room). Not durable: a client that reconnects gets the current states in \`room_joined.presence\`.`,
  },
  set_presence: {
    summary: 'Set this connection\'s presence state in a room it joined (validated against the app\'s state schema).',
    description: `${STATE_RULE} The room hears \`presence_updated\` when the user's state changes. The state ends when the connection leaves the room.`,
  },
} as const

/** The same object schema plus `presence`: member → state, for the members listed in it. */
export function withPresenceMap (payload: TSchema, state: TSchema): TSchema {
  const base = payload as TObject
  return Type.Object({
    ...base.properties,
    presence: Type.Optional(Type.Record(Type.String(), state, {
      description: `The presence state of listed members that have one (member id → state). ${STATE_RULE}`,
    })),
  }, { additionalProperties: false })
}
