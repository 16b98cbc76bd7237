import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import { forEachDialect, openTestDatabase } from '../../test/support/test-app.ts';
import { dialectOf, type Database } from './database.ts';

it('chooses the dialect from the database URL', () => {
  assert.equal(dialectOf('postgres://u@h/db'), 'postgres');
  assert.equal(dialectOf('postgresql://u@h/db'), 'postgres');
  assert.equal(dialectOf('data/tessera.sqlite'), 'sqlite');
  assert.equal(dialectOf('sqlite:/var/lib/tessera.sqlite'), 'sqlite');
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
