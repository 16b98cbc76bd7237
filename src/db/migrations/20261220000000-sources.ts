import { PostgresAdapter, sql, type Kysely } from 'kysely';

/** The tables that record which source owns a row, and its id there (kept here as they were when this migration was written). */
const SOURCE_OWNED_TABLES = ['co_person', 'identifier', 'name', 'email_address', 'co_group', 'co_group_member'] as const;

/**
 * Sources: registries that own some of a CO's people and groups (src/core/sources/).
 *
 * - `source`: one row per source of a CO (kind, unique name per CO, sealed settings, status, last run).
 * - `source_id` (→ source.id) and `external_id` (the object's id at the source) on every table a
 *   source writes; null on rows made in Tessera. People and groups are unique per (source, external id).
 * - Memberships: a source's membership and a local one of the same person in the same group
 *   coexist, so `co_group_member_uq (group_id, person_id)` becomes a unique index on
 *   (group_id, person_id, coalesce(source_id, '')): still one local row per person and group, and
 *   one per source. SQLite cannot drop a table constraint, so there the table is rebuilt.
 * - `source_id` references `source.id` on PostgreSQL; on SQLite the services keep it (a source row
 *   is never deleted, only finalised or terminated).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('source')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('settings_encrypted', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('last_run_at', 'text')
    .addColumn('last_full_run_at', 'text')
    .addColumn('last_run_counts', 'text')
    .addColumn('last_error', 'text')
    .addColumn('watermark', 'text')
    .addColumn('progress', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('source_co_name_uq', ['co_id', 'name'])
    .execute();

  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (postgres) {
    await sql`alter table co_group_member drop constraint co_group_member_uq`.execute(db);
  } else {
    await sql`create table co_group_member_new (
      id text primary key,
      co_id text not null references co(id) on delete cascade,
      group_id text not null references co_group(id) on delete cascade,
      person_id text not null references co_person(id) on delete cascade,
      member integer not null default 1,
      owner integer not null default 0,
      valid_from text,
      valid_through text,
      created_at text not null)`.execute(db);
    await sql`insert into co_group_member_new select id, co_id, group_id, person_id, member, owner, valid_from, valid_through, created_at from co_group_member`.execute(db);
    await sql`drop table co_group_member`.execute(db);
    await sql`alter table co_group_member_new rename to co_group_member`.execute(db);
    await db.schema.createIndex('co_group_member_person_idx').on('co_group_member').column('person_id').execute();
  }

  for (const table of SOURCE_OWNED_TABLES) {
    // SQLite cannot drop a column that declares a foreign key, so there the reference is the application's (down must work).
    await db.schema.alterTable(table).addColumn('source_id', 'text', (c) => (postgres ? c.references('source.id') : c)).execute();
    await db.schema.alterTable(table).addColumn('external_id', 'text').execute();
    await db.schema.createIndex(`${table}_source_idx`).on(table).columns(['source_id', 'external_id']).execute();
  }
  await db.schema.createIndex('co_person_source_uq').on('co_person').columns(['source_id', 'external_id']).unique().execute();
  await db.schema.createIndex('co_group_source_uq').on('co_group').columns(['source_id', 'external_id']).unique().execute();
  await db.schema
    .createIndex('co_group_member_uq')
    .on('co_group_member')
    .unique()
    .columns(['group_id', 'person_id'])
    .expression(sql`coalesce(source_id, '')`)
    .execute();
  await db.schema.createIndex('co_group_member_group_idx').on('co_group_member').column('group_id').execute();
}

/** Drops the source tables and columns; rows sources brought in stay, as local rows. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('co_group_member_group_idx').execute();
  await db.schema.dropIndex('co_group_member_uq').execute();
  await db.schema.dropIndex('co_group_source_uq').execute();
  await db.schema.dropIndex('co_person_source_uq').execute();
  for (const table of SOURCE_OWNED_TABLES) {
    await db.schema.dropIndex(`${table}_source_idx`).execute();
    await db.schema.alterTable(table).dropColumn('external_id').execute();
    await db.schema.alterTable(table).dropColumn('source_id').execute();
  }
  await sql`delete from co_group_member where id not in (select min(id) from co_group_member group by group_id, person_id)`.execute(db);
  await db.schema.createIndex('co_group_member_pair_uq').on('co_group_member').columns(['group_id', 'person_id']).unique().execute();
  await db.schema.dropTable('source').execute();
}
