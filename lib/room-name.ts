/** The one check of a room name, for joins and app broadcasts alike. */
import { WsError } from './errors.js'
import { ROOM_NAME_PATTERN } from '../schemas/common.js'

const ROOM_NAME = new RegExp(ROOM_NAME_PATTERN)

export function assertRoomName (room: unknown): asserts room is string {
  if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
    throw new WsError('invalid_message', 'Room names are 1–128 characters from letters, digits and _ - . : @ # /',
      [{ path: '/payload/room', message: 'invalid room name' }])
  }
}
