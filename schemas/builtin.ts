/**
 * The built-in chat protocol: payload schemas and metadata of every built-in message.
 * Handlers live in `lib/builtin-handlers.ts`; this file is data only.
 */
import { Type } from 'typebox'
import { Empty, EpochMs, MemberCount, PresenceVersion, RoomName, Seq, UserId } from './common.js'
import type { ClientMessageName, ServerMessageName } from '../lib/protocol/names.js'

const ErrorPayload = Type.Object({
  code: Type.String({ description: 'One of the documented error codes (`x-error-codes`).' }),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({
    path: Type.String({ description: 'JSON pointer into the frame, e.g. `/payload/room`.' }),
    message: Type.String(),
  }, { additionalProperties: false }))),
}, { additionalProperties: false })

/** Messages the server sends. `durable` ones carry `seq` on room deliveries and can be recovered. */
export const builtinServerMessages = {
  connected: {
    summary: 'First frame on every connection: who you are to the server.',
    payload: Type.Object({
      connectionId: Type.String(),
      userId: UserId,
      expiresAt: Type.Optional(EpochMs),
    }, { additionalProperties: false }),
    examples: [{ connectionId: 'c1f9a1e2-6a7b-4f55-9d3c-1b2a3c4d5e6f', userId: 'alice', expiresAt: 1893456000000 }],
  },
  room_joined: {
    summary: 'Reply to `join_room`: the room\'s members (up to the list limit), their count and its last `seq`.',
    description: 'Also sent without `id`, with `recovered: false`, to a member of the room when the server cannot continue the room\'s stream for it (the backend lost its data and the numbering restarted, or messages the instance missed are no longer in history): `seq` and `epoch` are the new baseline, the room\'s messages continue after it, and messages before it may have been lost.',
    payload: Type.Object({
      room: RoomName,
      members: Type.Array(UserId, { description: 'Distinct user ids present in the room: all of them when `memberCount` is at most the server\'s `presence.listLimit` (default 100), otherwise that many of them. Fewer than `memberCount`: the list is partial (page it with `get_members`).' }),
      memberCount: MemberCount,
      version: Type.Optional(PresenceVersion),
      seq: Seq,
      epoch: Type.Optional(Type.String({ description: 'Names this numbering of the room\'s `seq`: it changes when the numbering restarts (e.g. the backend lost its data). Send it back with `since` when joining again.' })),
      recovered: Type.Optional(Type.Boolean({ description: 'Answer to `since`: true when every message after it follows this reply. False without `id`: the room\'s stream restarted under this connection.' })),
    }, { additionalProperties: false }),
    examples: [{ room: 'general', members: ['alice', 'bob'], memberCount: 2, version: 1764079200123461, seq: 42, epoch: '1764079200.123456' }],
  },
  room_left: {
    summary: 'Reply to `leave_room`.',
    payload: Type.Object({ room: RoomName }, { additionalProperties: false }),
    examples: [{ room: 'general' }],
  },
  room_added: {
    summary: 'The server added this connection to a room (`app.ws.addToRoom`): the room\'s members and its last `seq`, as in `room_joined`.',
    description: 'Sent without `id`. The client tracks the room as if it had joined it: it joins it again after a reconnect, recovering from the last `seq` it saw.',
    payload: Type.Object({
      room: RoomName,
      members: Type.Array(UserId, { description: 'Distinct user ids present in the room, capped as in `room_joined`.' }),
      memberCount: MemberCount,
      version: Type.Optional(PresenceVersion),
      seq: Seq,
      epoch: Type.Optional(Type.String({ description: 'Names this numbering of the room\'s `seq`, as in `room_joined`: send it back with `since` when joining again.' })),
    }, { additionalProperties: false }),
    examples: [{ room: 'team-42', members: ['alice', 'bob'], memberCount: 2, seq: 7, epoch: '1764079200.123456' }],
  },
  room_removed: {
    summary: 'The server removed this connection from a room (`app.ws.removeFromRoom`), with a reason.',
    description: 'Sent without `id`. No frame of the room follows it; the client forgets the room and does not join it again after a reconnect.',
    payload: Type.Object({
      room: RoomName,
      reason: Type.String({ description: 'Why, in words the app chose (e.g. "Removed from the team").' }),
    }, { additionalProperties: false }),
    examples: [{ room: 'team-42', reason: 'Removed from the team' }],
  },
  user_joined: {
    summary: 'A user arrived in a room (their first connection in it). Sent while the room has at most `presence.listLimit` members.',
    room: true,
    payload: Type.Object({ userId: UserId, version: Type.Optional(PresenceVersion) }, { additionalProperties: false }),
    examples: [{ userId: 'bob', version: 1764079200123462 }],
  },
  user_left: {
    summary: 'A user left a room (their last connection in it left or disconnected). Sent while the room had at most `presence.listLimit` members.',
    room: true,
    payload: Type.Object({ userId: UserId, version: Type.Optional(PresenceVersion) }, { additionalProperties: false }),
    examples: [{ userId: 'bob', version: 1764079200123462 }],
  },
  member_count: {
    summary: 'A room crossed `presence.listLimit`: above it, arrivals and departures are no longer announced one by one (the members list a client holds is partial from now on); back at the limit, they are again. Carries the count at the crossing. Also sent once, with the count after, when many users leave a room that had more than `presence.listLimit` members at once (an instance shut down or died): instead of a `user_left` each.',
    room: true,
    payload: Type.Object({ memberCount: MemberCount }, { additionalProperties: false }),
    examples: [{ memberCount: 101 }],
  },
  members_page: {
    summary: 'Reply to `get_members`: one page of the room\'s members, in user id order.',
    payload: Type.Object({
      room: RoomName,
      members: Type.Array(UserId, { description: 'Distinct user ids, sorted, after the request\'s `after`.' }),
      memberCount: MemberCount,
      version: Type.Optional(PresenceVersion),
      next: Type.Optional(Type.String({ description: 'Present when more members follow: send it as `after` for the next page.' })),
    }, { additionalProperties: false }),
    examples: [{ room: 'general', members: ['alice', 'bob'], memberCount: 2 }, { room: 'lobby', members: ['u0001', 'u0002'], memberCount: 5000, next: 'u0002' }],
  },
  message: {
    summary: 'A chat message in a room, delivered to every member, sender included.',
    room: true,
    durable: true,
    payload: Type.Object({
      userId: UserId,
      content: Type.String(),
      ts: EpochMs,
    }, { additionalProperties: false }),
    examples: [{ userId: 'alice', content: 'Hello!', ts: 1767225600000 }],
  },
  typing: {
    summary: 'A user is typing in a room (sent to the other members only).',
    room: true,
    payload: Type.Object({ userId: UserId }, { additionalProperties: false }),
    examples: [{ userId: 'alice' }],
  },
  pong: {
    summary: 'Reply to `ping`.',
    payload: Type.Object({ ts: EpochMs }, { additionalProperties: false }),
    examples: [{ ts: 1767225600000 }],
  },
  token_refreshed: {
    summary: 'Reply to `refresh_token`: the connection now expires at `expiresAt`.',
    payload: Type.Object({ expiresAt: Type.Optional(EpochMs) }, { additionalProperties: false }),
    examples: [{ expiresAt: 1893456000000 }],
  },
  ack: {
    summary: 'Reply to a request that declares no reply of its own.',
    payload: Empty,
    examples: [{}],
  },
  error: {
    summary: 'A request or frame failed. Never closes the connection by itself.',
    payload: ErrorPayload,
    examples: [{ code: 'not_in_room', message: 'Join room "general" before sending to it' }],
  },
} as const satisfies Record<ServerMessageName, unknown>

/** Messages clients send. `reply` names the server message that answers a request with an `id`. */
export const builtinClientMessages = {
  join_room: {
    summary: 'Join a room. With `since`, also receive the durable messages missed after that `seq`.',
    payload: Type.Object({
      room: RoomName,
      since: Type.Optional(Type.Integer({ minimum: 0, description: 'Last `seq` the client saw in this room.' })),
      epoch: Type.Optional(Type.String({ maxLength: 64, description: 'The `epoch` of the `room_joined` that `since` counts from: when the room\'s numbering has restarted since, the answer is `recovered: false`, never other messages under the same numbers.' })),
    }, { additionalProperties: false }),
    reply: 'room_joined',
    examples: [{ room: 'general' }, { room: 'general', since: 40, epoch: '1764079200.123456' }],
  },
  leave_room: {
    summary: 'Leave a room.',
    payload: Type.Object({ room: RoomName }, { additionalProperties: false }),
    reply: 'room_left',
    examples: [{ room: 'general' }],
  },
  message: {
    summary: 'Send a chat message to a room you are in.',
    payload: Type.Object({
      room: RoomName,
      content: Type.String({ minLength: 1, maxLength: 4000 }),
      idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Makes a retry safe: a message refused with `unavailable` may still have been sent; sent again with the same key (by the same user, to the same room, within the history TTL) it is delivered once.' })),
    }, { additionalProperties: false }),
    examples: [{ room: 'general', content: 'Hello!' }, { room: 'general', content: 'Hello!', idempotencyKey: 'b1946ac9' }],
  },
  typing: {
    summary: 'Tell the other members of a room that you are typing.',
    payload: Type.Object({ room: RoomName }, { additionalProperties: false }),
    examples: [{ room: 'general' }],
  },
  get_members: {
    summary: 'List a room you are in, page by page (user id order). Every user present for the whole paging is listed exactly once.',
    payload: Type.Object({
      room: RoomName,
      after: Type.Optional(Type.String({ minLength: 1, description: 'The `next` of the previous page; omitted for the first page.' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Page size; at most (and by default) the server\'s `presence.listLimit`.' })),
    }, { additionalProperties: false }),
    reply: 'members_page',
    examples: [{ room: 'general' }, { room: 'lobby', after: 'u0002', limit: 50 }],
  },
  ping: {
    summary: 'Application-level heartbeat.',
    payload: Empty,
    reply: 'pong',
    examples: [{}],
  },
  refresh_token: {
    summary: 'Replace the connection\'s token before it expires, without reconnecting.',
    payload: Type.Object({ token: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    reply: 'token_refreshed',
    examples: [{ token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl' }],
  },
} as const satisfies Record<ClientMessageName, unknown>
