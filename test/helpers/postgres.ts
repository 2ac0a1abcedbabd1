/**
 * PostgreSQL for tests, like redis.ts for Redis: `DATABASE_URL_TEST` (default the machine's
 * database `test` at 127.0.0.1:5432). Unreachable: with `CI` set the file fails loudly; elsewhere
 * it is skipped with a message. Each call gets a unique table name, dropped at teardown, so test
 * files can run in parallel on one database.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'

export const DATABASE_URL = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test'

interface Tap {
  teardown(fn: () => unknown): void
  fail(message: string): unknown
  plan(n: number, reason?: string): void
  comment(...message: unknown[]): void
}

export interface PostgresTestContext {
  readonly url: string
  /** Unique to this call; dropped (with its index) at teardown. */
  readonly table: string
  /** Run a query on a connection of the test's own. */
  query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>
}

/** Call at the top of a PostgreSQL test file; undefined means the file must register no tests. */
export async function usePostgres (t: Tap): Promise<PostgresTestContext | undefined> {
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 })
  try {
    await admin.connect()
  } catch (err) {
    await admin.end().catch(() => {})
    const message = `PostgreSQL is unreachable at ${DATABASE_URL} (${err instanceof Error ? err.message : String(err)})`
    if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
      t.fail(`${message}: PostgreSQL tests are required when CI is set`)
    } else {
      t.comment(`${message}: skipping PostgreSQL tests. Start PostgreSQL or set DATABASE_URL_TEST to run them.`)
      t.plan(0, `no PostgreSQL at ${DATABASE_URL}`)
    }
    return undefined
  }
  const table = `chat_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  t.teardown(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`)
    await admin.end()
  })
  return {
    url: DATABASE_URL,
    table,
    query: async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => (await admin.query<R>(sql, values)).rows,
  }
}
