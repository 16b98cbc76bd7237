import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { PreviousState } from './provisioner.ts';

/** What a target holds for a person, as far as Tessera knows (a row of provisioning_state). */
export interface ProvisioningState extends PreviousState {
  targetId: string;
  personId: string;
  lastError: string | null;
  lastAttemptAt: string;
  lastSuccessAt: string | null;
}

/** The state's provisioner-owned JSON; a row that cannot be parsed reads as empty. */
function parseDetail(detail: string): Record<string, unknown> {
  try {
    return JSON.parse(detail) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Every target's state for the person, in no particular order. */
export async function statesOfPerson(db: Executor, coId: string, personId: string): Promise<ProvisioningState[]> {
  const rows = await db.selectFrom('provisioning_state').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).execute();
  return rows.map((r) => ({
    targetId: r.target_id,
    personId: r.person_id,
    status: r.status,
    targetKey: r.target_key,
    detail: parseDetail(r.detail),
    lastError: r.last_error,
    lastAttemptAt: r.last_attempt_at,
    lastSuccessAt: r.last_success_at,
  }));
}

/** An attempt's outcome. `targetKey` and `detail` left undefined keep what was stored; `success` is when it succeeded. */
export interface StateUpdate {
  status: PreviousState['status'];
  targetKey?: string | null;
  detail?: Record<string, unknown>;
  error: string | null;
  success?: string;
}

/**
 * Records an attempt for (target, person), creating the state on the first one, in one
 * `INSERT … ON CONFLICT (target_id, person_id) DO UPDATE`, so two workers recording at once never
 * collide on the unique key. `now` is an ISO timestamp.
 */
export async function saveState(db: Executor, key: { coId: string; targetId: string; personId: string }, s: StateUpdate, now: string): Promise<void> {
  await db
    .insertInto('provisioning_state')
    .values({
      id: newId(),
      co_id: key.coId,
      target_id: key.targetId,
      person_id: key.personId,
      status: s.status,
      target_key: s.targetKey ?? null,
      detail: JSON.stringify(s.detail ?? {}),
      last_error: s.error,
      last_attempt_at: now,
      last_success_at: s.success ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['target_id', 'person_id']).doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        ...(s.targetKey !== undefined ? { target_key: eb.ref('excluded.target_key') } : {}),
        ...(s.detail !== undefined ? { detail: eb.ref('excluded.detail') } : {}),
        last_error: eb.ref('excluded.last_error'),
        last_attempt_at: eb.ref('excluded.last_attempt_at'),
        ...(s.success ? { last_success_at: eb.ref('excluded.last_success_at') } : {}),
      })),
    )
    .execute();
}
