/**
 * Moderation, the example's use of server-side control: a moderator removes a user from a room
 * from the page, through a REST route. The route authenticates with the same JWT as the
 * WebSocket (`Authorization: Bearer`), and only a token with the `moderator` claim may use it.
 * `app.ws.removeFromRoom` reaches the user's connections on every instance; their pages get
 * `room_removed` with the reason and do not re-join the room.
 */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { RoomName, UserId } from '../../schemas/common.js'

const RemoveParams = Type.Object({ room: RoomName, userId: UserId }, { additionalProperties: false })
const Problem = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() })

export async function registerModeration (app: FastifyInstance): Promise<void> {
  app.post<{ Params: Static<typeof RemoveParams> }>('/rooms/:room/members/:userId/remove', {
    schema: {
      summary: 'A moderator removes a user (all their connections) from a room',
      params: RemoveParams,
      response: { 204: Type.Null(), 401: Problem, 403: Problem },
    },
  }, async (request, reply) => {
    let claims: { sub?: unknown, moderator?: unknown }
    try {
      claims = await request.jwtVerify()
    } catch {
      return await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'A valid bearer token is required' })
    }
    if (claims.moderator !== true) {
      return await reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Only moderators may remove users from rooms' })
    }
    const { room, userId } = request.params
    await app.ws.removeFromRoom({ userId }, room, `Removed by moderator ${String(claims.sub)}`)
    return await reply.code(204).send()
  })
}
