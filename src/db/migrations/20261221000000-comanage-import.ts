import type { Kysely } from 'kysely';

/**
 * `comanage_import_map`: what `tessera import comanage` brought in, by COmanage id, so a re-run
 * changes only what changed at the source and never duplicates. One row per imported object:
 * the COmanage installation (`host:port/database`) and CO it came from, its kind (person, name,
 * identifier, …) and id there, the Tessera row it became, and a digest of the values imported
 * (SHA-256 of the mapped values; never of a plaintext token).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('comanage_import_map')
    .addColumn('installation', 'text', (c) => c.notNull())
    .addColumn('comanage_co_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('comanage_id', 'text', (c) => c.notNull())
    .addColumn('co_id', 'text', (c) => c.notNull())
    .addColumn('tessera_id', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('comanage_import_map_pk', ['installation', 'comanage_co_id', 'kind', 'comanage_id'])
    .execute();
  await db.schema.createIndex('comanage_import_map_co_idx').on('comanage_import_map').columns(['co_id', 'kind']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('comanage_import_map').execute();
}
