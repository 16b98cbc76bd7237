import { Kysely, MysqlDialect, PostgresDialect, sql } from 'kysely';
import { LAYOUTS, requiredColumns, type Layout, type LayoutName } from './comanage-layout.ts';

/** A COmanage database URL with its password hidden, for messages and pages. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** A connection to a SqlProvisioner target database, PostgreSQL or MySQL/MariaDB. */
export interface ComanageConnection<DB = unknown> {
  db: Kysely<DB>;
  dialect: 'postgres' | 'mysql';
  close(): Promise<void>;
}

/**
 * Opens the database a URL names: `postgres://` / `postgresql://` (pg), `mysql://` / `mariadb://`
 * (mysql2). Timestamps are read as text on both (they are UTC in COmanage; see `utc`), so no
 * driver shifts them by the local time zone. `DB` types the tables to read (the import's cm_
 * tables); a source reads through its layout, untyped. Throws a clear Error for another scheme.
 */
export async function openComanage<DB = unknown>(url: string): Promise<ComanageConnection<DB>> {
  const scheme = url.split(':')[0]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const pg = (await import('pg')).default;
    const types = new pg.TypeOverrides();
    // timestamp, timestamptz and date as the server's text.
    for (const oid of [1114, 1184, 1082]) types.setTypeParser(oid, (value: string) => value);
    const pool = new pg.Pool({
      connectionString: url,
      max: 2,
      connectionTimeoutMillis: 10_000,
      types,
    });
    pool.on('error', () => {});
    return { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres', close: () => pool.end() };
  }
  if (scheme === 'mysql' || scheme === 'mariadb') {
    const mysql = await import('mysql2');
    const u = new URL(url);
    const pool = mysql.createPool({
      host: u.hostname,
      port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.replace(/^\//, '')),
      connectionLimit: 2,
      connectTimeout: 10_000,
      dateStrings: true,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    return { db: new Kysely<DB>({ dialect: new MysqlDialect({ pool }) }), dialect: 'mysql', close: () => new Promise((resolve) => pool.end(() => resolve())) };
  }
  throw new Error(`the database URL must start with postgres://, postgresql://, mysql:// or mariadb:// (got ${maskUrl(url)})`);
}

/**
 * Checks that the database holds the tables and columns of the layout under the prefix, and
 * throws an Error saying what is missing — and, when the other layout's tables are there, that
 * the layout is wrong — before anything is read or written.
 */
export async function checkLayout(conn: ComanageConnection, prefix: string, layoutName: LayoutName): Promise<Layout> {
  const layout = LAYOUTS[layoutName];
  const schema = conn.dialect === 'postgres' ? sql`current_schema()` : sql`database()`;
  const rows = await sql<{ t: string; c: string }>`select table_name as t, column_name as c from information_schema.columns where table_schema = ${schema}`.execute(conn.db);
  const columns = new Map<string, Set<string>>();
  for (const r of rows.rows) {
    const table = String(r.t).toLowerCase();
    columns.set(table, (columns.get(table) ?? new Set()).add(String(r.c).toLowerCase()));
  }
  const problems: string[] = [];
  for (const need of requiredColumns(layout)) {
    const have = columns.get(`${prefix}${need.table}`.toLowerCase());
    if (!have) problems.push(`no table ${prefix}${need.table}`);
    else {
      const missing = need.columns.filter((c) => !have.has(c));
      if (missing.length) problems.push(`table ${prefix}${need.table} has no column ${missing.join(', ')}`);
    }
  }
  if (problems.length === 0) return layout;
  const other: LayoutName = layoutName === 'v4' ? 'v5' : 'v4';
  const otherFits = requiredColumns(LAYOUTS[other]).every((need) => columns.has(`${prefix}${need.table}`.toLowerCase()));
  const found = [...columns.keys()].filter((t) => t.startsWith(prefix.toLowerCase())).sort();
  throw new Error(
    `not a COmanage SqlProvisioner ${layoutName} target with prefix "${prefix}": ${problems.join('; ')}` +
      (otherFits ? `. The tables are those of layout ${other}: use --layout ${other}` : '') +
      (found.length ? ` (tables with the prefix: ${found.slice(0, 20).join(', ')})` : ` (no table starts with "${prefix}")`),
  );
}
