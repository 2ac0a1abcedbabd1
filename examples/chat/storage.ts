/**
 * Every chat message is stored, through hooks, in the example's message store (store/): SQLite by
 * default, PostgreSQL with `DATABASE_URL`. Storing is a precondition of delivery, in two steps:
 *
 * 1. `preHandler` writes the message before anyone sees it. If the database refuses, the sender
 *    gets `store_unavailable` and nothing is broadcast. A resend with the same `idempotencyKey`
 *    finds the first attempt's row, so a retried message is stored once (and, by the plugin's
 *    idempotency, delivered once).
 * 2. `onPublish` gives the row its `seq` (the adapter assigns it in the same step it fans out).
 *
 * The history route's `load` reads the store, so history outlives the adapter's bounded one and a
 * restart. With the memory adapter the room's numbering goes on from the highest stored `seq`
 * (`resumeSeq`), so a restarted server does not hand out the stored `seq`s again.
 */
import type { FastifyInstance } from 'fastify'
import { WsError } from '../../plugin.js'
import type { MessageStore } from './store/types.js'

/** The highest stored `seq` per room, kept current: `MemoryAdapter`'s `resumeSeq` reads it synchronously. */
export class LastSeqs {
  private readonly seqs = new Map<string, number>()

  async load (store: MessageStore): Promise<void> {
    for (const [room, seq] of await store.lastSeqs()) this.seqs.set(room, seq)
  }

  get (room: string): number {
    return this.seqs.get(room) ?? 0
  }

  saw (room: string, seq: number): void {
    if (seq > this.get(room)) this.seqs.set(room, seq)
  }
}

/** A message written by `preHandler` and waiting for its `seq` (a connection's frames are handled one at a time). */
interface Reserved { readonly row: number, readonly room: string }

export function registerMessageStorage (app: FastifyInstance, store: MessageStore, lastSeqs: LastSeqs): void {
  const reserved = new WeakMap<object, Reserved>()

  // Added after the app's other preHandler hooks, so it stores the content they let through.
  app.ws.addHook('preHandler', async (ctx, message) => {
    if (message.type !== 'message') return
    const { room, content, idempotencyKey } = message.payload
    // Not a member: the plugin refuses it next (not_in_room); nothing to store.
    if (!ctx.connection.rooms.has(room)) return
    let row: number
    try {
      row = await store.reserve({ room, userId: ctx.userId, content, ts: Date.now(), idempotencyKey })
    } catch (err) {
      ctx.log.error({ err, room }, 'could not store a chat message: refused it')
      throw new WsError('store_unavailable', 'The chat could not store your message, so it was not sent. Try again.')
    }
    reserved.set(ctx.connection, { row, room })
  })

  app.ws.addHook('onPublish', async (ctx, published) => {
    if (published.type !== 'message') return
    const mine = reserved.get(ctx.connection)
    reserved.delete(ctx.connection)
    lastSeqs.saw(published.room, published.seq)
    if (mine === undefined || mine.room !== published.room) {
      // Not reserved by the hook above (cannot happen while it runs for every `message`): store it now.
      const { userId, content, ts } = published.payload
      const row = await store.reserve({ room: published.room, userId, content, ts, idempotencyKey: undefined })
      await store.commit(row, published.seq, ts)
      return
    }
    // Members already have the message: a failure here is answered internal_error (the row keeps no seq).
    await store.commit(mine.row, published.seq, published.payload.ts)
  })
}

/** The history route's `load`: sent messages older than what the adapter keeps, as `message` frames. */
export function loadFrom (store: MessageStore) {
  return async (room: string, page: { before: number, limit: number }) =>
    (await store.before(room, page.before, page.limit)).map(({ seq, userId, content, ts }) => ({ seq, type: 'message', payload: { userId, content, ts } }))
}
