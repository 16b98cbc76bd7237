import { sql, type Kysely } from 'kysely';

/**
 * API usernames become unique per CO instead of across COs, so creating one no longer tells a CO
 * admin which names other COs use (a 409 answered for another CO's name). HTTP Basic carries no CO:
 * an API user is now found by its key's hash, made unique here (keys are 256 random bits, so two
 * never meet), and the username must then match (`authenticateApiUser`).
 *
 * SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt on both dialects alike:
 * a new table, the rows copied, the old one dropped and the new one renamed. Nothing references it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await rebuild(db, 'per-co');
}

/** Back to names unique across COs; fails (unique violation) when two COs now share a name. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await rebuild(db, 'global');
}

async function rebuild(db: Kysely<unknown>, scope: 'per-co' | 'global'): Promise<void> {
  await db.schema
    .createTable('api_user_next')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('username', 'text', (c) => (scope === 'global' ? c.notNull().unique() : c.notNull()))
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('privileged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'text')
    .addColumn('valid_through', 'text')
    .addColumn('allowed_addresses', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into api_user_next (id, co_id, username, key_hash, privileged, status, valid_from, valid_through, allowed_addresses, created_at)
    select id, co_id, username, key_hash, privileged, status, valid_from, valid_through, allowed_addresses, created_at from api_user`.execute(db);
  await db.schema.dropTable('api_user').execute();
  await db.schema.alterTable('api_user_next').renameTo('api_user').execute();
  if (scope === 'per-co') {
    await db.schema.createIndex('api_user_co_username_uq').on('api_user').columns(['co_id', 'username']).unique().execute();
    await db.schema.createIndex('api_user_key_hash_uq').on('api_user').column('key_hash').unique().execute();
  }
}
