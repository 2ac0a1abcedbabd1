/** The message store in an SQLite file (better-sqlite3): the example's default, no setup. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { checkTableName, DEFAULT_TABLE, type MessageStore, type NewChatMessage, type StoredChatMessage } from './types.js'

export class SqliteMessageStore implements MessageStore {
  readonly kind = 'sqlite'
  private db: Database.Database | undefined
  private readonly table: string

  constructor (readonly location: string, table: string = DEFAULT_TABLE) {
    this.table = checkTableName(table)
  }

  async open (): Promise<void> {
    if (this.location !== ':memory:') mkdirSync(dirname(this.location), { recursive: true })
    const db = new Database(this.location)
    // WAL: readers (the history route) do not wait for the writer; NORMAL is durable across a process crash.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room TEXT NOT NULL,
        seq INTEGER,
        user_id TEXT NOT NULL,
        content TEXT NOT NULL,
        ts INTEGER NOT NULL,
        idempotency_key TEXT,
        UNIQUE (room, user_id, idempotency_key)
      );
      CREATE INDEX IF NOT EXISTS ${this.table}_room_seq ON ${this.table} (room, seq);
    `)
    this.db = db
  }

  private get handle (): Database.Database {
    if (this.db === undefined) throw new Error('The SQLite message store is not open')
    return this.db
  }

  async reserve (message: NewChatMessage): Promise<number> {
    // A resent key conflicts and returns the first attempt's row (the no-op update makes RETURNING answer).
    const row = this.handle.prepare(`
      INSERT INTO ${this.table} (room, user_id, content, ts, idempotency_key) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (room, user_id, idempotency_key) DO UPDATE SET room = excluded.room
      RETURNING id`).get(message.room, message.userId, message.content, message.ts, message.idempotencyKey ?? null) as { id: number }
    return row.id
  }

  async commit (row: number, seq: number, ts: number): Promise<void> {
    this.handle.prepare(`UPDATE ${this.table} SET seq = ?, ts = ? WHERE id = ? AND seq IS NULL`).run(seq, ts, row)
  }

  async before (room: string, before: number, limit: number): Promise<StoredChatMessage[]> {
    return this.handle.prepare(`
      SELECT seq, user_id AS userId, content, ts FROM ${this.table}
      WHERE room = ? AND seq IS NOT NULL AND seq < ? ORDER BY seq DESC, id DESC LIMIT ?`).all(room, before, limit) as StoredChatMessage[]
  }

  async lastSeqs (): Promise<Map<string, number>> {
    const rows = this.handle.prepare(`SELECT room, MAX(seq) AS seq FROM ${this.table} WHERE seq IS NOT NULL GROUP BY room`).all() as Array<{ room: string, seq: number }>
    return new Map(rows.map((row) => [row.room, row.seq]))
  }

  async close (): Promise<void> {
    this.db?.close()
    this.db = undefined
  }
}
