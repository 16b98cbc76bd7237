import type { Executor } from '../../../db/database.ts';
import type { GroupFilter } from './scim-filter.ts';
import type { Paging } from './scim-resource.ts';

/** A SCIM source's group as listed. */
export interface ScimGroupRow {
  id: string;
  externalId: string;
  name: string;
  description: string;
  createdAt: string;
}

function matching(db: Executor, coId: string, sourceId: string, filter: GroupFilter) {
  let q = db.selectFrom('co_group').where('co_id', '=', coId).where('source_id', '=', sourceId);
  if (filter.none) q = q.where('id', '=', '');
  if (filter.id !== undefined) q = q.where('id', '=', filter.id);
  if (filter.externalId !== undefined) q = q.where('external_id', '=', filter.externalId);
  if (filter.displayName !== undefined) q = q.where('name', '=', filter.displayName.normalize('NFC'));
  return q;
}

/** One page of the source's groups matching the filter (stable order: creation, id) and the total. */
export async function findScimGroups(db: Executor, coId: string, sourceId: string, filter: GroupFilter, paging: Paging): Promise<{ total: number; rows: ScimGroupRow[] }> {
  const total = Number((await matching(db, coId, sourceId, filter).select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  if (paging.count === 0 || total < paging.startIndex) return { total, rows: [] };
  const rows = await matching(db, coId, sourceId, filter)
    .select(['id', 'external_id', 'name', 'description', 'created_at'])
    .orderBy('created_at')
    .orderBy('id')
    .limit(paging.count)
    .offset(paging.startIndex - 1)
    .execute();
  return { total, rows: rows.map((r) => ({ id: r.id, externalId: r.external_id ?? '', name: r.name, description: r.description, createdAt: r.created_at })) };
}

/** The source's group with this SCIM id (co_group.id), or undefined (another source's included). */
export async function findScimGroup(db: Executor, coId: string, sourceId: string, id: string): Promise<ScimGroupRow | undefined> {
  return (await findScimGroups(db, coId, sourceId, { id }, { startIndex: 1, count: 1 })).rows[0];
}

/** The members this source gave each group (person ids, sorted); local memberships are not listed. */
export async function sourceMembersOf(db: Executor, coId: string, sourceId: string, groupIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupIds.map((g) => [g, []]));
  if (groupIds.length === 0) return out;
  const rows = await db
    .selectFrom('co_group_member')
    .select(['group_id', 'person_id'])
    .where('co_id', '=', coId)
    .where('source_id', '=', sourceId)
    .where('group_id', 'in', groupIds)
    .orderBy('person_id')
    .execute();
  for (const r of rows) out.get(r.group_id)?.push(r.person_id);
  return out;
}
