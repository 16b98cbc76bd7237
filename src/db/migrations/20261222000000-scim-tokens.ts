import type { Kysely } from 'kysely';

/**
 * SCIM sources' bearer tokens (src/core/sources/scim/scim-token.*): each `scim` source has one or
 * more, stored as the SHA-256 of the secret (256 random bits: a fast hash suffices), with a hint
 * (the last four characters) to tell them apart. A revoked token keeps its row (revoked_at).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scim_token')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('source_id', 'text', (c) => c.notNull().references('source.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('scim_token_source_idx').on('scim_token').columns(['co_id', 'source_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('scim_token').execute();
}
