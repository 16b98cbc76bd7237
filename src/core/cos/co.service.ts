import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isPlatformAdmin, type Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { listPersonIdsOfCo } from '../people/person.repository.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { insertGroups } from '../groups/group.repository.ts';
import { recordHistory } from '../history/history.service.ts';
import { findCo, findPlatformCo, insertCo, listCoRows, lockCo, updateCoRow, type Co } from './co.repository.ts';
import type { CoInput } from './co.schema.ts';
import { inTransaction } from '../../db/transaction.ts';

export type { Co } from './co.repository.ts';

/** Names of the two system groups every CO has (COmanage: `CO:admins`, `CO:members:active`). */
export const ADMINS_GROUP_NAME = 'CO:admins';
export const MEMBERS_GROUP_NAME = 'CO:members:active';

/** The CO with this id; CO_NOT_FOUND (404) otherwise. */
export async function getCo(db: Executor, coId: string): Promise<Co> {
  const co = await findCo(db, coId);
  if (!co) throw new AppError(CORE_ERRORS.CO_NOT_FOUND);
  return co;
}

/**
 * Every CO for platform admins and for API users of the platform CO (which read every CO, see
 * `canReadCo`); otherwise the COs the actor is a person in, or the API user's own CO.
 */
export async function listCos(db: Executor, actor: Actor): Promise<Co[]> {
  if (isPlatformAdmin(actor) || (actor.kind === 'api' && actor.platform)) return listCoRows(db);
  const ids = actor.kind === 'person' ? Object.keys(actor.personIds) : actor.kind === 'api' ? [actor.coId] : [];
  return listCoRows(db, ids);
}

/** Inserts a CO with its admins group (its CO administrators) and its automatic members group. */
async function insertCoWithGroups(db: Executor, ctx: CoreContext, input: CoInput, isPlatform: boolean): Promise<Co> {
  const now = ctx.clock.now().toISOString();
  const co = await insertCo(db, { id: newId(), name: input.name, description: input.description, status: 'active', is_platform: isPlatform ? 1 : 0, created_at: now, updated_at: now });
  await insertGroups(db, [
    { id: newId(), co_id: co.id, name: ADMINS_GROUP_NAME, description: `Administrators of ${input.name}`, status: 'active', group_type: 'admins', created_at: now },
    { id: newId(), co_id: co.id, name: MEMBERS_GROUP_NAME, description: `Active members of ${input.name}`, status: 'active', group_type: 'members', created_at: now },
  ]);
  return co;
}

/** Creates a CO (platform admins only) with its two system groups; CO_NAME_TAKEN (409, field `name`) on a clash. */
export async function createCo(ctx: CoreContext, actor: Actor, input: CoInput): Promise<Co> {
  assertThat(isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    const co = await insertCoWithGroups(trx, ctx, input, false);
    await recordHistory(trx, ctx.clock, actor, { coId: co.id, action: 'CO_CREATED', comment: `CO ${co.name} created` });
    return co;
  });
}

/** Creates the platform CO once; later calls return it. */
export async function ensurePlatformCo(ctx: CoreContext, db: Executor = ctx.db): Promise<Co> {
  const existing = await findPlatformCo(db);
  if (existing) return existing;
  return insertCoWithGroups(db, ctx, { name: 'Platform', description: 'Holds the platform administrators' }, true);
}

/**
 * Changes a CO (platform admins only). The platform CO cannot be suspended (PLATFORM_CO_PROTECTED);
 * CO_NOT_FOUND, CO_NAME_TAKEN (409, field `name`).
 *
 * While a CO is suspended nothing of it works: its tokens are not usable (the usable-token rule),
 * its API users are refused, its CO admins administer nothing (platform admins still do). A change
 * of status is a change for every person of the CO, so provisioning withdraws (or, on
 * reactivation, writes back) their token values; tokens revoked or expired meanwhile stay gone.
 */
export async function updateCo(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  input: Partial<CoInput & { status: 'active' | 'suspended' }>,
): Promise<Co> {
  assertThat(isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const co = await getCo(trx, coId);
    if (co.isPlatform && input.status === 'suspended') throw new AppError(CORE_ERRORS.PLATFORM_CO_PROTECTED, { field: 'status' });
    await updateCoRow(trx, coId, {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.description !== undefined && { description: input.description }),
      ...(input.status !== undefined && { status: input.status }),
      updated_at: ctx.clock.now().toISOString(),
    });
    const statusChanged = input.status !== undefined && input.status !== co.status;
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'CO_UPDATED', comment: `CO ${input.name ?? co.name} updated${statusChanged ? ` (status ${co.status} → ${input.status})` : ''}` });
    if (statusChanged) {
      const reason = input.status === 'suspended' ? 'CO suspended' : 'CO reactivated';
      for (const personId of await listPersonIdsOfCo(trx, coId)) await publishChange(ctx, trx, { kind: 'person', coId, personId, reason });
    }
    return getCo(trx, coId);
  });
}
