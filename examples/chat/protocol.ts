/**
 * The example's own messages, declared next to the built-in chat protocol: a durable room
 * broadcast (`reaction`), a request with a typed reply (`get_room_stats` → `room_stats`), and the
 * error code of a message the chat could not store (storage.ts).
 */
import { Type } from 'typebox'
import { defineProtocol, WsError } from '../../plugin.js'
import { RoomName, Seq, UserId } from '../../schemas/common.js'

export const chatProtocol = defineProtocol()
  .error('store_unavailable', 'The chat could not store the message, so it was not sent to anyone. Send it again later (with the same `idempotencyKey` it is stored and delivered once).')
  .server('reaction', {
    summary: 'A user reacted to a chat message (by its `seq`) with an emoji.',
    payload: Type.Object({ userId: UserId, seq: Seq, emoji: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false }),
    examples: [{ userId: 'bob', seq: 42, emoji: '👍' }],
  })
  .server('room_stats', {
    summary: 'Reply to `get_room_stats`.',
    durable: false,
    payload: Type.Object({ room: RoomName, members: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    examples: [{ room: 'general', members: 2 }],
  })
  .client('react', {
    summary: 'React to a chat message of a room you are in.',
    payload: Type.Object({ room: RoomName, seq: Seq, emoji: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false }),
    examples: [{ room: 'general', seq: 42, emoji: '👍' }],
    handler: async (ctx, { room, seq, emoji }) => {
      if (!ctx.connection.rooms.has(room)) throw new WsError('not_in_room', `Join room "${room}" before reacting in it`)
      await ctx.broadcast(room, 'reaction', { userId: ctx.userId, seq, emoji })
    },
  })
  .client('get_room_stats', {
    summary: 'How many users are in a room.',
    payload: Type.Object({ room: RoomName }, { additionalProperties: false }),
    reply: 'room_stats',
    examples: [{ room: 'general' }],
    handler: async (ctx, { room }) => ({ room, members: (await ctx.members(room)).length }),
  })

declare module '../../plugin.js' {
  interface Register { protocol: typeof chatProtocol }
}
