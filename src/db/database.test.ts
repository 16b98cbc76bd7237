import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import { forEachDialect, openTestDatabase } from '../../test/support/test-app.ts';
import { dialectOf, openDatabase, type Database } from './database.ts';

it('chooses the dialect from the database URL', () => {
  assert.equal(dialectOf('postgres://u@h/db'), 'postgres');
  assert.equal(dialectOf('postgresql://u@h/db'), 'postgres');
  assert.equal(dialectOf('data/tessera.sqlite'), 'sqlite');
  assert.equal(dialectOf('sqlite:/var/lib/tessera.sqlite'), 'sqlite');
});

it('makes a new SQLite database, its directory and its WAL files readable by their owner only, whatever the umask', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-db-mode-'));
  const previous = process.umask(0o022);
  try {
    const path = join(root, 'data', 'tessera.sqlite');
    const database = openDatabase(path);
    await sql`create table t (v text)`.execute(database.db);
    await sql`insert into t values ('x')`.execute(database.db);
    const mode = (p: string) => statSync(p).mode & 0o777;
    assert.deepEqual([mode(join(root, 'data')), mode(path), mode(`${path}-wal`), mode(`${path}-shm`)], [0o700, 0o600, 0o600, 0o600]);
    await database.destroy();
    chmodSync(path, 0o640);
    const reopened = openDatabase(path);
    await reopened.destroy();
    assert.equal(mode(path), 0o640, 'an existing file keeps the mode its operator gave it');
  } finally {
    process.umask(previous);
    rmSync(root, { recursive: true, force: true });
  }
});

forEachDialect('Database', (dialect) => {
  let database: Database & { cleanup(): Promise<void> };
  before(async () => {
    database = await openTestDatabase(dialect);
  });
  after(() => database.cleanup());

  it('lowercases non-ASCII letters in lower() where the database can', async () => {
    const { rows } = await sql<{ v: string }>`select lower(${'ÉMILE Öztürk'}) as v`.execute(database.db);
    // PostgreSQL folds by its locale; the test cluster runs with --locale=C (ASCII only).
    assert.equal(rows[0]!.v, dialect === 'sqlite' ? 'émile öztürk' : 'Émile Öztürk');
  });

  if (dialect === 'postgres') {
    it('survives the server closing its idle connections, and reconnects', async () => {
      await sql`select 1`.execute(database.db);
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ terminated: boolean }>(
          'select pg_terminate_backend(pid) as terminated from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        );
        assert.ok(rows.length > 0 && rows.every((r) => r.terminated));
      } finally {
        await admin.end();
      }
      // Let the idle client see its connection closed (an 'error' event on the pool).
      await sleep(200);
      const { rows } = await sql<{ n: number }>`select 2 as n`.execute(database.db);
      assert.equal(Number(rows[0]!.n), 2);
    });
  }
});
