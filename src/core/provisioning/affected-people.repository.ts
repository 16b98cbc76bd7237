import type { Executor } from '../../db/database.ts';

/*
 * The people a registry change reaches, read from the people and group tables. These queries
 * belong with the people and group repositories; they live here until those offer them.
 */

/** Ids of every person of the CO. */
export async function personIdsOfCo(db: Executor, coId: string): Promise<string[]> {
  return (await db.selectFrom('co_person').select('id').where('co_id', '=', coId).execute()).map((r) => r.id);
}

/**
 * Ids of the people a group's change affects: every person of the CO for its members group (whose
 * membership is implicit), else the people with a membership row.
 */
export async function personIdsOfGroup(db: Executor, coId: string, groupId: string): Promise<string[]> {
  const group = await db.selectFrom('co_group').select('group_type').where('id', '=', groupId).executeTakeFirst();
  if (group?.group_type === 'members') return personIdsOfCo(db, coId);
  return (await db.selectFrom('co_group_member').select('person_id').where('group_id', '=', groupId).execute()).map((r) => r.person_id);
}
