import { sql, type Kysely } from 'kysely';
import { takesRowLocks } from '../../../db/transaction.ts';

/** The tables whose rows the verification cache holds (services, token settings, verification keys). */
const CACHED_TABLES = ['co_service', 'service_token_setting', 'service_verifier'] as const;

/**
 * The verification cache's version and the shared failure counters of the verification API.
 *
 * - `service_token_cache_version`: one row whose `version` a trigger increments on every insert,
 *   update or delete of `co_service`, `service_token_setting` and `service_verifier`, in the
 *   writing transaction itself, whatever wrote it (a service, a source, an import, SQL by hand).
 *   The verification lookup reads it in the same statement as the token, so a process notices at
 *   once that its cache of those rows is stale (see verification/verification-cache.ts).
 * - `service_token_verify_failure`: failed (and reserved) verification attempts per rate-limit key,
 *   at a time in epoch milliseconds (`pending` 1 while the attempt's check is under way); several
 *   processes on one PostgreSQL database count together.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = takesRowLocks(db);
  await db.schema
    .createTable('service_token_cache_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into service_token_cache_version (id, version) values (1, 0)`.execute(db);
  if (postgres) {
    await sql`create function service_token_cache_bump() returns trigger language plpgsql as $$
      begin update service_token_cache_version set version = version + 1 where id = 1; return null; end $$`.execute(db);
    for (const table of CACHED_TABLES) {
      await sql`create trigger ${sql.id(`${table}_cache_bump`)} after insert or update or delete on ${sql.table(table)}
        for each statement execute function service_token_cache_bump()`.execute(db);
    }
  } else {
    for (const table of CACHED_TABLES) {
      for (const event of ['insert', 'update', 'delete']) {
        await sql`create trigger ${sql.id(`${table}_cache_bump_${event}`)} after ${sql.raw(event)} on ${sql.table(table)}
          begin update service_token_cache_version set version = version + 1 where id = 1; end`.execute(db);
      }
    }
  }

  await db.schema
    .createTable('service_token_verify_failure')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('pending', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('service_token_verify_failure_key_idx').on('service_token_verify_failure').columns(['key', 'at']).execute();
  await db.schema.createIndex('service_token_verify_failure_at_idx').on('service_token_verify_failure').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = takesRowLocks(db);
  await db.schema.dropTable('service_token_verify_failure').execute();
  for (const table of CACHED_TABLES) {
    if (postgres) await sql`drop trigger ${sql.id(`${table}_cache_bump`)} on ${sql.table(table)}`.execute(db);
    else for (const event of ['insert', 'update', 'delete']) await sql`drop trigger ${sql.id(`${table}_cache_bump_${event}`)}`.execute(db);
  }
  if (postgres) await sql`drop function service_token_cache_bump()`.execute(db);
  await db.schema.dropTable('service_token_cache_version').execute();
}
