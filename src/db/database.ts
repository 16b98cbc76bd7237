import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import type { CoreDatabase } from './core-tables.ts';
import { withNamedStatements } from './postgres-named-statements.ts';

export type DialectName = 'sqlite' | 'postgres';

/** The Kysely handle of the core tables; plugins widen it with `db.withTables<T>()`. */
export type Db = Kysely<CoreDatabase>;
export type Executor<T = CoreDatabase> = Kysely<T> | Transaction<T>;

export interface Database {
  db: Db;
  dialect: DialectName;
  url: string;
  destroy(): Promise<void>;
}

/** `postgres://…` selects PostgreSQL; anything else is a SQLite file path (or `sqlite:PATH`). */
export function dialectOf(url: string): DialectName {
  return /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
}

/** The file of a SQLite URL: `sqlite:PATH`, `sqlite://PATH` or a bare path. */
export function sqlitePathOf(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, '');
}

export function openDatabase(url: string): Database {
  const dialect = dialectOf(url);
  if (dialect === 'postgres') {
    // Timestamps are stored as ISO text and booleans as integers on both dialects, so pg's
    // default parsers suffice; BIGINT counts come back as strings and are converted where read.
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // An idle connection the server closes (restart, failover, pg_terminate_backend) is an 'error'
    // event on the pool; unheard, it would crash the process. The pool has already dropped that
    // connection and opens a new one for the next query; a real outage shows up as query errors.
    pool.on('error', () => {});
    const db = new Kysely<CoreDatabase>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
    return { db, dialect, url, destroy: () => db.destroy() };
  }
  const path = sqlitePathOf(url);
  if (path !== ':memory:') {
    // People's data and token hashes: a new database is readable by its owner only (SQLite gives
    // its -wal and -shm files the database file's mode), whatever the umask of the shell that
    // started Tessera. An existing file keeps the mode its operator gave it.
    mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  }
  const sqlite = new SQLite(path);
  // exec, not pragma(): pragma() prepares a statement that is then left to the garbage collector.
  sqlite.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000');
  // Reads through a memory map instead of a pread() system call per page: a process that just
  // started otherwise pays a system call for every page its first lookups touch. The map is capped
  // at 64 MiB: every page of it that was read counts in the process's RSS, and at 100,000 people a
  // 256 MiB map filled up and made the server's RSS 416 MiB (bench:scale); pages beyond the map are
  // read with pread() from the kernel's page cache, which caches them all the same.
  sqlite.exec('PRAGMA mmap_size = 67108864');
  // Planner statistics, as SQLite advises for a connection that lives long (sqlite.org/lang_analyze.html):
  // without them an equality on co_id looks selective, and at a million people a query for a few
  // people by id walks the whole CO. Sampled (analysis_limit) so a large database opens in seconds,
  // but widely: a sample of 1,000 rows says a CO holds about 1,000 people, and a list of 500 ids
  // is then read by walking the CO instead of by primary key.
  sqlite.exec('PRAGMA analysis_limit = 100000; PRAGMA optimize = 0x10002');
  // SQLite's built-in lower() folds ASCII only; searches must find "Émile" when asked for "émile".
  sqlite.function('lower', { deterministic: true }, (v: unknown) => (v === null ? null : String(v).toLowerCase()));
  const db = new Kysely<CoreDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect, url, destroy: () => db.destroy() };
}

/**
 * better-sqlite3 compiles every SQL text it is given; Kysely hands it the same few texts again and
 * again (values are bound separately), so compiled statements are kept and reused. Statements run
 * synchronously, so one is never used twice at once.
 *
 * Every statement is kept for the life of the connection, never dropped for the garbage collector:
 * with better-sqlite3 12 on Node.js 24.19 and later, a Statement finalised by a garbage collection
 * that runs outside JavaScript (an idle GC) aborts the process (`RemoveEnvironmentCleanupHook`
 * assertion; fixed in better-sqlite3 13, which in turn does not run on Node.js 20). The distinct
 * texts are bounded by the queries the code builds (an `in (…)` list gives one text per length),
 * a few thousand small objects at most.
 */
function withStatementCache(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (text: string) => {
    let statement = cache.get(text);
    if (!statement) {
      statement = sqlite.prepare(text);
      cache.set(text, statement);
    }
    return statement;
  };
  // Functions are bound once, not on every property read (Kysely reads `prepare` per query).
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (!fn) bound.set(prop, (fn = (value as (...a: unknown[]) => unknown).bind(target)));
      return fn;
    },
  });
}
