import type { Kysely } from 'kysely';

/**
 * Groups of a million members, a page at a time: `co_group_member_group_created_idx` (group_id,
 * co_id, created_at, id) reads a page of a group's memberships oldest first without sorting the
 * group, and counts them from the index alone (the CO is in it, so the query stays scoped by CO
 * without reading a row per membership). It replaces `co_group_member_group_idx` (group_id), of
 * which it is a superset.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('co_group_member_group_created_idx').on('co_group_member').columns(['group_id', 'co_id', 'created_at', 'id']).execute();
  await db.schema.dropIndex('co_group_member_group_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('co_group_member_group_idx').on('co_group_member').column('group_id').execute();
  await db.schema.dropIndex('co_group_member_group_created_idx').execute();
}
