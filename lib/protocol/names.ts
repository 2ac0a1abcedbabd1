/**
 * Message names: the built-in ones, the rule every name follows, and the one mapping from a wire
 * type to the generated client's method names (`join_room` → `sendJoinRoom()`, `room_joined` →
 * `onRoomJoined()`), used by the server, the AsyncAPI document and the SDK generator alike.
 */

/** Built-in client → server messages. */
export const ClientMessage = {
  JoinRoom: 'join_room',
  LeaveRoom: 'leave_room',
  Message: 'message',
  Typing: 'typing',
  Ping: 'ping',
  RefreshToken: 'refresh_token',
  GetMembers: 'get_members',
} as const

export type ClientMessageName = (typeof ClientMessage)[keyof typeof ClientMessage]

/** Built-in server → client messages. */
export const ServerMessage = {
  Connected: 'connected',
  RoomJoined: 'room_joined',
  RoomLeft: 'room_left',
  /** The server added this connection to a room (server-side join): track it like a joined room. */
  RoomAdded: 'room_added',
  /** The server removed this connection from a room, with a reason: forget it, do not re-join. */
  RoomRemoved: 'room_removed',
  UserJoined: 'user_joined',
  UserLeft: 'user_left',
  /** A big room's member count, when it crosses `presence.listLimit` (per-user events stop or resume). */
  MemberCount: 'member_count',
  /** Reply to `get_members`. */
  MembersPage: 'members_page',
  Message: 'message',
  Typing: 'typing',
  Pong: 'pong',
  TokenRefreshed: 'token_refreshed',
  /** The reply of a request that declares none. */
  Ack: 'ack',
  /** A request or frame failed. */
  Error: 'error',
} as const

export type ServerMessageName = (typeof ServerMessage)[keyof typeof ServerMessage]

/**
 * Built-in messages that exist only when the protocol declares a presence state
 * (`defineProtocol().presence(schema)`): their payloads carry the app's state schema.
 */
export const PresenceMessage = {
  /** Client → server: set this connection's state in a room it joined. */
  SetPresence: 'set_presence',
  /** Server → room: a member's merged state changed. */
  PresenceUpdated: 'presence_updated',
} as const

/** The built-in messages the generated client's runtime itself relies on: a document must have them. */
export const RUNTIME_MESSAGES = {
  client: [ClientMessage.JoinRoom, ClientMessage.LeaveRoom, ClientMessage.Ping, ClientMessage.RefreshToken],
  server: [ServerMessage.Connected, ServerMessage.RoomJoined, ServerMessage.RoomLeft, ServerMessage.Pong, ServerMessage.TokenRefreshed, ServerMessage.Ack, ServerMessage.Error],
} as const

/** Wire type names: lower snake_case, so every name maps to one `sendFooBar()` / `onFooBar()`. */
export const MESSAGE_NAME_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/

export function isMessageName (name: unknown): name is string {
  return typeof name === 'string' && MESSAGE_NAME_PATTERN.test(name)
}

/** `get_room_stats` → `GetRoomStats`. */
export function pascalCase (type: string): string {
  return type.split('_').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')
}

/** The generated client's method that sends client message `type`: `join_room` → `sendJoinRoom`. */
export function sendMethodName (type: string): string {
  return 'send' + pascalCase(type)
}

/** The generated client's method that subscribes to server message `type`: `room_joined` → `onRoomJoined`. */
export function onMethodName (type: string): string {
  return 'on' + pascalCase(type)
}
