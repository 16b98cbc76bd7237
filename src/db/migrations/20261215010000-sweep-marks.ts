import type { Kysely } from 'kysely';

/**
 * `sweep_mark`: how far each periodic sweep of time-based transitions has got (one row per sweep,
 * named), so a sweep after downtime handles every transition since the last one that finished.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sweep_mark')
    .addColumn('name', 'text', (c) => c.primaryKey().notNull())
    .addColumn('swept_through', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sweep_mark').execute();
}
