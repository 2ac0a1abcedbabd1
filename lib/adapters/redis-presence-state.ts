/** Redis implementation of presence state (`PresenceStateStore`): one hash per room, scripts in `redis-state-scripts.ts`. */
import type { PresenceStateStore, StateChange } from '../adapter.js'
import type { RedisKeys } from './redis-keys.js'
import type { CommandConnection } from './redis-stores.js'

export class RedisPresenceStates implements PresenceStateStore {
  constructor (private readonly cmd: CommandConnection, private readonly keys: RedisKeys) {}

  async set (room: string, userId: string, connectionId: string, state: string): Promise<StateChange | undefined> {
    const reply = await this.cmd().wsSetState(this.keys.conns(room), this.keys.state(room), connectionId, userId, state)
    return reply === -1 ? undefined : { changed: reply === 1, state }
  }

  async clear (room: string, userId: string, connectionId: string): Promise<StateChange> {
    const [changed, state] = await this.cmd().wsClearState(this.keys.state(room), connectionId, userId)
    return { changed: changed === 1, state: state ?? undefined }
  }

  async get (room: string, userIds: readonly string[]): Promise<Array<string | undefined>> {
    if (userIds.length === 0) return []
    const states = await this.cmd().hmget(this.keys.state(room), ...userIds.map((userId) => 's:' + userId))
    return states.map((state) => state ?? undefined)
  }
}
