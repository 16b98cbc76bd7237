// `tessera backup` and `tessera restore`: a consistent copy of the database while Tessera runs
// (SQLite's online backup API; pg_dump for PostgreSQL), and its way back into an empty database.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../config/config.ts';
import { dialectOf, sqlitePathOf } from '../db/database.ts';

const execFileAsync = promisify(execFile);

/** What a backup or restore tells the operator, one line each; `code` is the exit status. */
export interface BackupOutcome {
  code: number;
  lines: string[];
}

/** The table every Tessera database has once migrated: how a file is recognised as one. */
const MARKER_TABLE = 'tessera_migration_core';

function keyReminder(env: NodeJS.ProcessEnv): string {
  const where = env.TESSERA_SECRET_KEY ? 'TESSERA_SECRET_KEY (kept wherever you keep that variable)' : resolve(env.TESSERA_SECRET_KEY_FILE ?? 'data/secret.key');
  return `Keep the secret key with it: ${where}. Without the key, the LDAP targets' bind passwords in this backup cannot be decrypted and must be entered again.`;
}

/** Runs pg_dump or pg_restore (from PATH); its failure is an Error with its output. */
async function runPgTool(tool: 'pg_dump' | 'pg_restore', args: string[]): Promise<void> {
  try {
    await execFileAsync(tool, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { code, stderr = '' } = error as { code?: unknown; stderr?: string };
    if (code === 'ENOENT') throw new Error(`${tool} is not installed: install PostgreSQL's client programs (Debian: apt-get install postgresql-client)`);
    throw new Error(`${tool} failed: ${stderr.trim() || (error as Error).message}`);
  }
}

/**
 * Writes a consistent copy of the configured database to `to` while Tessera keeps running and
 * writing. SQLite: `VACUUM INTO` on a read-only connection, which copies inside one read
 * transaction, so the copy is one moment's state and, in WAL mode, writers go on meanwhile. (The
 * page-stepping backup API, sqlite3_backup_step, restarts whenever another connection writes, so
 * under steady load it may never finish.) The copy is checked with `PRAGMA integrity_check`.
 * PostgreSQL: `pg_dump --format=custom` (one snapshot). The file appears only when complete; an
 * existing file is never overwritten.
 */
export async function backupDatabase(config: Config, env: NodeJS.ProcessEnv, to: string): Promise<BackupOutcome> {
  const target = resolve(to);
  if (existsSync(target)) return { code: 2, lines: [`${target} exists; choose a new file name (a backup never overwrites one)`] };
  if (!existsSync(dirname(target))) return { code: 2, lines: [`the directory ${dirname(target)} does not exist`] };
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  try {
    if (dialectOf(config.databaseUrl) === 'postgres') {
      await runPgTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${partial}`, `--dbname=${config.databaseUrl}`]);
    } else {
      const source = sqlitePathOf(config.databaseUrl);
      if (!existsSync(source)) return { code: 2, lines: [`no SQLite database at ${resolve(source)}`] };
      const db = new SQLite(source, { readonly: true, fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        db.prepare('VACUUM INTO ?').run(partial);
      } finally {
        db.close();
      }
      const copy = new SQLite(partial, { readonly: true });
      try {
        const check = copy.pragma('integrity_check', { simple: true });
        if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`);
      } finally {
        copy.close();
      }
    }
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return { code: 0, lines: [`Backed up the ${dialectOf(config.databaseUrl) === 'postgres' ? 'PostgreSQL' : 'SQLite'} database to ${target} (${statSync(target).size} bytes).`, keyReminder(env)] };
}

/**
 * Restores a backup made by `backupDatabase` into the configured database, which must be empty
 * (a SQLite file that does not exist yet, or a PostgreSQL database without tables): a restore never
 * overwrites data. The backup is checked first (integrity, and that it is a Tessera database).
 * `tessera serve` applies newer migrations afterwards, so an older backup restores into a newer version.
 */
export async function restoreDatabase(config: Config, from: string): Promise<BackupOutcome> {
  const source = resolve(from);
  if (!existsSync(source)) return { code: 2, lines: [`no backup at ${source}`] };
  if (dialectOf(config.databaseUrl) === 'postgres') {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'");
      if (Number(rows[0]?.n ?? 0) > 0) return { code: 2, lines: ['the database has tables already; restore into an empty database (createdb a new one and point TESSERA_DATABASE_URL at it)'] };
    } finally {
      await client.end();
    }
    await runPgTool('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${config.databaseUrl}`, source]);
    return { code: 0, lines: [`Restored ${source} into the PostgreSQL database. Start Tessera with the secret key of the backed-up installation.`] };
  }
  const target = resolve(sqlitePathOf(config.databaseUrl));
  if (existsSync(target)) return { code: 2, lines: [`${target} exists; restore into a new path (move the old database away first)`] };
  const backup = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    const check = backup.pragma('integrity_check', { simple: true });
    if (check !== 'ok') return { code: 1, lines: [`${source} fails its integrity check: ${String(check)}`] };
    const marker = backup.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(MARKER_TABLE) as { n: number };
    if (marker.n === 0) return { code: 2, lines: [`${source} is not a Tessera database`] };
    const partial = `${target}.partial`;
    mkdirSync(dirname(target), { recursive: true });
    rmSync(partial, { force: true });
    await backup.backup(partial);
    renameSync(partial, target);
  } finally {
    backup.close();
  }
  return { code: 0, lines: [`Restored ${source} to ${target}. Start Tessera with the secret key of the backed-up installation.`] };
}
