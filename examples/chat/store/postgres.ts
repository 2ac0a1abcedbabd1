/** The message store in PostgreSQL (`pg`): instances that share the database share one history. */
import pg from 'pg'
import { checkTableName, DEFAULT_TABLE, type MessageStore, type NewChatMessage, type StoredChatMessage } from './types.js'

export interface PostgresStoreOptions {
  /** A `postgres://` URL (`DATABASE_URL`). */
  connectionString: string
  /** @default 'chat_messages' */
  table?: string
  /** Told about an idle pooled connection that failed (otherwise an unhandled 'error' would end the process). */
  onError?: (err: Error) => void
}

export class PostgresMessageStore implements MessageStore {
  readonly kind = 'postgres'
  readonly location: string
  private readonly pool: pg.Pool
  private readonly table: string

  constructor (options: PostgresStoreOptions) {
    this.table = checkTableName(options.table ?? DEFAULT_TABLE)
    // Small pool; a write that cannot get a connection or an answer fails within 3 s, before the
    // plugin's hook timeout (5 s), so the sender is told store_unavailable instead of waiting.
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 5, connectionTimeoutMillis: 3000, query_timeout: 3000 })
    this.pool.on('error', options.onError ?? (() => {}))
    const url = new URL(options.connectionString)
    this.location = `${url.host}${url.pathname} table ${this.table}`
  }

  async open (): Promise<void> {
    // Two instances starting together may both create: the second waits on the lock, then finds it.
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.table])
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.table} (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          room TEXT NOT NULL,
          seq BIGINT,
          user_id TEXT NOT NULL,
          content TEXT NOT NULL,
          ts BIGINT NOT NULL,
          idempotency_key TEXT,
          UNIQUE (room, user_id, idempotency_key)
        )`)
      await client.query(`CREATE INDEX IF NOT EXISTS ${this.table}_room_seq ON ${this.table} (room, seq)`)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  async reserve (message: NewChatMessage): Promise<number> {
    // A resent key conflicts and returns the first attempt's row (the no-op update makes RETURNING answer).
    const { rows } = await this.pool.query<{ id: string }>(`
      INSERT INTO ${this.table} (room, user_id, content, ts, idempotency_key) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (room, user_id, idempotency_key) DO UPDATE SET room = excluded.room
      RETURNING id`, [message.room, message.userId, message.content, message.ts, message.idempotencyKey ?? null])
    return Number(rows[0]!.id)
  }

  async commit (row: number, seq: number, ts: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET seq = $1, ts = $2 WHERE id = $3 AND seq IS NULL`, [seq, ts, row])
  }

  async before (room: string, before: number, limit: number): Promise<StoredChatMessage[]> {
    const { rows } = await this.pool.query<{ seq: string, user_id: string, content: string, ts: string }>(`
      SELECT seq, user_id, content, ts FROM ${this.table}
      WHERE room = $1 AND seq IS NOT NULL AND seq < $2 ORDER BY seq DESC, id DESC LIMIT $3`, [room, before, limit])
    return rows.map((row) => ({ seq: Number(row.seq), userId: row.user_id, content: row.content, ts: Number(row.ts) }))
  }

  async lastSeqs (): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ room: string, seq: string }>(`SELECT room, MAX(seq) AS seq FROM ${this.table} WHERE seq IS NOT NULL GROUP BY room`)
    return new Map(rows.map((row) => [row.room, Number(row.seq)]))
  }

  async close (): Promise<void> {
    await this.pool.end()
  }
}
