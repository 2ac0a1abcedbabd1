/**
 * The example's message store: where every chat message is written before anyone sees it
 * (storage.ts), and where the history route reads what the adapter no longer keeps. Two
 * implementations share one table layout: SQLite (a file, the zero-setup default) and PostgreSQL
 * (`DATABASE_URL`: several instances share one history).
 */

/** A chat message as the room saw it: the `message` frame's `seq` and payload. */
export interface StoredChatMessage {
  readonly seq: number
  readonly userId: string
  readonly content: string
  readonly ts: number
}

export interface NewChatMessage {
  readonly room: string
  readonly userId: string
  readonly content: string
  readonly ts: number
  /** The sender's `idempotencyKey`: the same key in the same room reserves the same row. */
  readonly idempotencyKey: string | undefined
}

export interface MessageStore {
  /** `sqlite` or `postgres`, for the log. */
  readonly kind: string
  /** Where the messages are (a file path, or the database and table), for the log. */
  readonly location: string
  /** Create the table and its indexes when they are missing. */
  open(): Promise<void>
  /**
   * Write a message before it is sent; resolves to its row. A message resent with the same
   * `idempotencyKey` (by the same user, in the same room) gets the row of the first attempt.
   */
  reserve(message: NewChatMessage): Promise<number>
  /** The reserved message went out with this `seq` (and the payload's `ts`). A row that has its `seq` keeps it. */
  commit(row: number, seq: number, ts: number): Promise<void>
  /** The newest `limit` sent messages of the room with `seq < before`, newest first. */
  before(room: string, before: number, limit: number): Promise<StoredChatMessage[]>
  /** The highest `seq` stored per room. */
  lastSeqs(): Promise<Map<string, number>>
  close(): Promise<void>
}

/** The table: rows are reserved (no `seq`) before the broadcast and get their `seq` after it. */
export const DEFAULT_TABLE = 'chat_messages'

/** A table name both databases take unquoted. */
export function checkTableName (table: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) throw new Error(`The chat store's table name must be lower-case letters, digits and _; got ${JSON.stringify(table)}`)
  return table
}
