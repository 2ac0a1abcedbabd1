/** Pick the example's message store from its config: PostgreSQL when a URL is given, else an SQLite file. */
import { PostgresMessageStore } from './postgres.js'
import { SqliteMessageStore } from './sqlite.js'
import type { MessageStore } from './types.js'

export type { MessageStore, StoredChatMessage } from './types.js'

export interface StoreConfig {
  /** `DATABASE_URL`: PostgreSQL, shared by every instance that uses it. */
  databaseUrl?: string | undefined
  /** `CHAT_DB_FILE`: the SQLite file when there is no `databaseUrl`. */
  sqliteFile: string
  /** The table (tests use their own). @default 'chat_messages' */
  table?: string | undefined
  onError?: (err: Error) => void
}

export function createMessageStore (config: StoreConfig): MessageStore {
  if (config.databaseUrl !== undefined) {
    return new PostgresMessageStore({ connectionString: config.databaseUrl, ...(config.table === undefined ? {} : { table: config.table }), ...(config.onError === undefined ? {} : { onError: config.onError }) })
  }
  return new SqliteMessageStore(config.sqliteFile, config.table)
}
