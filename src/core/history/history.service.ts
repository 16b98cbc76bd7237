import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { Clock } from '../clock.ts';
import type { CoreContext } from '../context.ts';
import { assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { insertHistoryRecord, insertHistoryRecords, listHistory, type HistoryEntry } from './history.repository.ts';

export type { HistoryEntry } from './history.repository.ts';

/** What a change records about itself; the actor and the time are added by `recordHistory`. */
export interface HistoryInput {
  coId: string;
  personId?: string | null;
  groupId?: string | null;
  serviceId?: string | null;
  action: string;
  comment: string;
}

/**
 * Records one history entry; call it inside the transaction of the change it explains. The actor
 * is kept as a label (so history survives deletions) and, where it is one, as the acting person of
 * this CO or the API user.
 */
export async function recordHistory(db: Executor, clock: Clock, actor: Actor, input: HistoryInput): Promise<void> {
  await insertHistoryRecord(db, {
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
  });
}

/** `recordHistory` for many entries by one actor at one time, in one statement; inside the transaction they explain. */
export async function recordHistoryMany(db: Executor, clock: Clock, actor: Actor, inputs: readonly HistoryInput[]): Promise<void> {
  const now = clock.now().toISOString();
  await insertHistoryRecords(
    db,
    inputs.map((input) => ({
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
      created_at: now,
    })),
  );
}

/**
 * A CO's history, for its administrators (people in the admins group, privileged API users);
 * anyone else gets FORBIDDEN. Filters and paging as in `listHistory`.
 */
export async function listCoHistory(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  filter: { personId?: string; serviceId?: string; limit?: number; offset?: number },
): Promise<HistoryEntry[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return listHistory(ctx.db, coId, filter);
}
