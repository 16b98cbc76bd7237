import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { isId, newId } from '../../db/ids.ts';
import { isPlatformAdmin, type Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import type { CoInput } from './co.schema.ts';
import type { CoTable } from './co.table.ts';

export interface Co {
  id: string;
  name: string;
  description: string;
  status: 'active' | 'suspended';
  isPlatform: boolean;
  createdAt: string;
}

export const ADMINS_GROUP_NAME = 'CO:admins';
export const MEMBERS_GROUP_NAME = 'CO:members:active';

function toCo(r: CoTable): Co {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    status: r.status,
    isPlatform: r.is_platform === 1,
    createdAt: r.created_at,
  };
}

export async function findCo(db: Executor, coId: string): Promise<Co | undefined> {
  if (!isId(coId)) return undefined;
  const row = await db.selectFrom('co').selectAll().where('id', '=', coId).executeTakeFirst();
  return row && toCo(row);
}

export async function getCo(db: Executor, coId: string): Promise<Co> {
  const co = await findCo(db, coId);
  if (!co) throw new AppError(CORE_ERRORS.CO_NOT_FOUND);
  return co;
}

export async function findPlatformCo(db: Executor): Promise<Co | undefined> {
  const row = await db.selectFrom('co').selectAll().where('is_platform', '=', 1).executeTakeFirst();
  return row && toCo(row);
}

/**
 * Every CO for platform admins and for API users of the platform CO (which read every CO, see
 * `canReadCo`); otherwise the COs the actor is a person in, or the API user's own CO.
 */
export async function listCos(db: Executor, actor: Actor): Promise<Co[]> {
  let q = db.selectFrom('co').selectAll().orderBy('is_platform', 'desc').orderBy('name');
  if (!isPlatformAdmin(actor) && !(actor.kind === 'api' && actor.platform)) {
    const ids =
      actor.kind === 'person' ? Object.keys(actor.personIds) : actor.kind === 'api' ? [actor.coId] : [];
    if (ids.length === 0) return [];
    q = q.where('id', 'in', ids);
  }
  return (await q.execute()).map(toCo);
}

async function insertCo(db: Executor, ctx: CoreContext, input: CoInput, isPlatform: boolean): Promise<Co> {
  const now = ctx.clock.now().toISOString();
  const id = newId();
  try {
    await db
      .insertInto('co')
      .values({ id, name: input.name, description: input.description, status: 'active', is_platform: isPlatform ? 1 : 0, created_at: now, updated_at: now })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.CO_NAME_TAKEN, { field: 'name' });
    throw e;
  }
  // Every CO has an admins group (its CO administrators) and an automatic members group.
  await db
    .insertInto('co_group')
    .values([
      { id: newId(), co_id: id, name: ADMINS_GROUP_NAME, description: `Administrators of ${input.name}`, status: 'active', group_type: 'admins', created_at: now },
      { id: newId(), co_id: id, name: MEMBERS_GROUP_NAME, description: `Active members of ${input.name}`, status: 'active', group_type: 'members', created_at: now },
    ])
    .execute();
  return { id, name: input.name, description: input.description, status: 'active', isPlatform, createdAt: now };
}

export async function createCo(ctx: CoreContext, actor: Actor, input: CoInput): Promise<Co> {
  assertThat(isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const co = await insertCo(trx, ctx, input, false);
    await recordHistory(trx, ctx.clock, actor, { coId: co.id, action: 'CO_CREATED', comment: `CO ${co.name} created` });
    return co;
  });
}

/** Creates the platform CO once; later calls return it. */
export async function ensurePlatformCo(ctx: CoreContext, db: Executor = ctx.db): Promise<Co> {
  const existing = await findPlatformCo(db);
  if (existing) return existing;
  return insertCo(db, ctx, { name: 'Platform', description: 'Holds the platform administrators' }, true);
}

export async function updateCo(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  input: Partial<CoInput & { status: 'active' | 'suspended' }>,
): Promise<Co> {
  assertThat(isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const co = await getCo(trx, coId);
    if (co.isPlatform && input.status === 'suspended') throw new AppError(CORE_ERRORS.PLATFORM_CO_PROTECTED, { field: 'status' });
    try {
      await trx
        .updateTable('co')
        .set({
          ...(input.name !== undefined && { name: input.name }),
          ...(input.description !== undefined && { description: input.description }),
          ...(input.status !== undefined && { status: input.status }),
          updated_at: ctx.clock.now().toISOString(),
        })
        .where('id', '=', coId)
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.CO_NAME_TAKEN, { field: 'name' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'CO_UPDATED', comment: `CO ${input.name ?? co.name} updated` });
    return getCo(trx, coId);
  });
}
