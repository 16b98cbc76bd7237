import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { Clock } from '../clock.ts';
import type { CoreContext } from '../context.ts';
import { assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';

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

export interface HistoryInput {
  coId: string;
  personId?: string | null;
  groupId?: string | null;
  serviceId?: string | null;
  action: string;
  comment: string;
}

/** Records one history entry; call it inside the transaction of the change it explains. */
export async function recordHistory(db: Executor, clock: Clock, actor: Actor, input: HistoryInput): Promise<void> {
  await db
    .insertInto('history_record')
    .values({
      id: newId(),
      co_id: input.coId,
      person_id: input.personId ?? null,
      group_id: input.groupId ?? null,
      service_id: input.serviceId ?? null,
      actor_person_id: actor.kind === 'person' ? (actor.personIds[input.coId] ?? null) : null,
      actor_api_user_id: actor.kind === 'api' ? actor.apiUserId : null,
      actor_label: actor.label,
      action: input.action,
      comment: input.comment,
      created_at: clock.now().toISOString(),
    })
    .execute();
}

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
  return rows.map((r) => ({
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
  }));
}

/** A CO's history, for its administrators (people in the admins group, privileged API users). */
export async function listCoHistory(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  filter: { personId?: string; serviceId?: string; limit?: number; offset?: number },
): Promise<HistoryEntry[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return listHistory(ctx.db, coId, filter);
}
