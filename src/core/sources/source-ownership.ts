import type { Executor } from '../../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { SOURCE_ERRORS } from './source-errors.ts';

/**
 * Refuses a local change to something a source owns: SOURCE_OWNED (409), naming the source, so
 * the API answers with a machine-readable code and forms re-render saying where to change it.
 * `what` names the object ("This person's status", "The identifier alice"). Does nothing for a
 * row made in Tessera (`sourceId` null or undefined).
 */
export async function assertNotSourceOwned(db: Executor, coId: string, sourceId: string | null | undefined, what: string, field?: string): Promise<void> {
  if (!sourceId) return;
  const row = await db.selectFrom('source').select('name').where('co_id', '=', coId).where('id', '=', sourceId).executeTakeFirst();
  const name = row?.name ?? sourceId;
  throw new AppError(SOURCE_ERRORS.SOURCE_OWNED, { message: `${what} comes from source ${name}; change it there (or finalise the source to make Tessera its owner)`, ...(field ? { field } : {}) });
}

/**
 * Before a source's memberships become local (detach, finalise): removes each of the source's
 * memberships whose person already has a local membership of the same group, since a group holds
 * one local membership per person (unique index co_group_member_uq on group, person and source).
 * The local one is what an administrator made, so it is the one kept. `personId` limits this to
 * one person. Returns how many were removed. Run inside the caller's transaction.
 */
export async function dropSourceMembershipsShadowedByLocal(trx: Executor, coId: string, sourceId: string, personId?: string): Promise<number> {
  let query = trx
    .deleteFrom('co_group_member as m')
    .where('m.co_id', '=', coId)
    .where('m.source_id', '=', sourceId)
    .where((eb) =>
      eb.exists(
        eb.selectFrom('co_group_member as l')
          .select('l.id')
          .where('l.co_id', '=', coId)
          .whereRef('l.group_id', '=', 'm.group_id')
          .whereRef('l.person_id', '=', 'm.person_id')
          .where('l.source_id', 'is', null),
      ),
    );
  if (personId !== undefined) query = query.where('m.person_id', '=', personId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
