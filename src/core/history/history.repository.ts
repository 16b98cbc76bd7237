import type { Executor } from '../../db/database.ts';
import type { HistoryRecordTable } from './history.table.ts';

/** One history entry as shown: who did what to which person, group or service of a CO, and when. */
export interface HistoryEntry {
  id: string;
  coId: string;
  personId: string | null;
  groupId: string | null;
  serviceId: string | null;
  actorLabel: string;
  actorPersonId: string | null;
  actorApiUserId: string | null;
  action: string;
  comment: string;
  createdAt: string;
}

const toEntry = (r: HistoryRecordTable): HistoryEntry => ({
  id: r.id,
  coId: r.co_id,
  personId: r.person_id,
  groupId: r.group_id,
  serviceId: r.service_id,
  actorLabel: r.actor_label,
  actorPersonId: r.actor_person_id,
  actorApiUserId: r.actor_api_user_id,
  action: r.action,
  comment: r.comment,
  createdAt: r.created_at,
});

/** Writes one history row as given (its `co_id` scopes it); history rows are never changed. */
export async function insertHistoryRecord(db: Executor, row: HistoryRecordTable): Promise<void> {
  await db.insertInto('history_record').values(row).execute();
}

/** Inserts many history rows in one statement (nothing for none). */
export async function insertHistoryRecords(db: Executor, rows: readonly HistoryRecordTable[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('history_record').values([...rows]).execute();
}

/**
 * The CO's history, newest first (ties by id), optionally about one person or one service. No
 * authorization here: callers that serve people check the role first (`listCoHistory`).
 * `limit` defaults to 200, `offset` to 0.
 */
export async function listHistory(
  db: Executor,
  coId: string,
  filter: { personId?: string; serviceId?: string; limit?: number; offset?: number },
): Promise<HistoryEntry[]> {
  let q = db.selectFrom('history_record').selectAll().where('co_id', '=', coId);
  if (filter.personId) q = q.where('person_id', '=', filter.personId);
  if (filter.serviceId) q = q.where('service_id', '=', filter.serviceId);
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(filter.limit ?? 200)
    .offset(filter.offset ?? 0)
    .execute();
  return rows.map(toEntry);
}
