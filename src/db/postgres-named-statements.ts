import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/** Registered SQL texts and their statement names. */
const names = new Map<string, string>();

/**
 * Registers `text` (PostgreSQL placeholders `$1`…) to run as a named prepared statement: each pool
 * connection parses and plans it once, at its first use, and then only binds and executes it,
 * where an unnamed statement is parsed and planned again on every call. For the few statements of
 * a hot path (the verification lookup); returns `text`, to be run as usual through Kysely
 * (`CompiledQuery.raw`). A text that migrations could change the result columns of must not be
 * registered before they run (PostgreSQL refuses a cached plan whose result type changed).
 */
export function preparedOnPostgres(text: string): string {
  if (!names.has(text)) names.set(text, `tessera_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
  return text;
}

/**
 * The pool as Kysely's PostgresDialect uses it, running the texts registered with
 * `preparedOnPostgres` as named statements (pg's `{ name, text, values }`); every other query
 * goes through unchanged.
 */
export function withNamedStatements(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
        if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as PostgresCursor<R> & pg.Submittable);
        const name = names.get(sqlOrCursor);
        const values = parameters ? [...parameters] : [];
        return (name ? client.query<pg.QueryResultRow>({ name, text: sqlOrCursor, values }) : client.query<pg.QueryResultRow>(sqlOrCursor, values)).then((r) => ({
          command: r.command as PostgresQueryResult<R>['command'],
          rowCount: r.rowCount ?? 0,
          rows: r.rows as R[],
        }));
      }
      return { query, release: (destroy?: boolean) => client.release(destroy) };
    },
    end: () => pool.end(),
  };
}
