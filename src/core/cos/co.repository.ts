import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import { takesRowLocks } from '../../db/transaction.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import type { CoTable } from './co.table.ts';

/** A collaborative organization; exactly one is the platform CO, whose admins are the platform administrators. */
export interface Co {
  id: string;
  name: string;
  description: string;
  status: 'active' | 'suspended';
  isPlatform: boolean;
  createdAt: string;
}

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

const coNameTaken = () => new AppError(CORE_ERRORS.CO_NAME_TAKEN, { field: 'name' });

/** The CO with this id; undefined for a malformed or unknown id. */
export async function findCo(db: Executor, coId: string): Promise<Co | undefined> {
  if (!isId(coId)) return undefined;
  const row = await db.selectFrom('co').selectAll().where('id', '=', coId).executeTakeFirst();
  return row && toCo(row);
}

/**
 * Locks the CO's row for the rest of the transaction, first of all locks (see the lock order in
 * src/db/transaction.ts): `shared` for a change that reaches at most one person (many run side by
 * side), `exclusive` for one that reaches many people or the CO's configuration (it runs alone in
 * the CO). Neither blocks foreign-key checks. Returns whether the CO exists; a CO deleted meanwhile
 * is then seen as gone. SQLite has no row locks and serialises writers anyway: there it only reads.
 */
export async function lockCo(db: Executor, coId: string, mode: 'shared' | 'exclusive'): Promise<boolean> {
  if (!isId(coId)) return false;
  const query = db.selectFrom('co').select('id').where('id', '=', coId);
  if (!takesRowLocks(db)) return (await query.executeTakeFirst()) !== undefined;
  return (await (mode === 'shared' ? query.forShare() : query.forNoKeyUpdate()).executeTakeFirst()) !== undefined;
}

/** The platform CO, once setup has created it. */
export async function findPlatformCo(db: Executor): Promise<Co | undefined> {
  const row = await db.selectFrom('co').selectAll().where('is_platform', '=', 1).executeTakeFirst();
  return row && toCo(row);
}

/**
 * COs, the platform CO first, then by name: every CO, or only those with these ids. No
 * authorization here (`listCos` decides which ids an actor may see).
 */
export async function listCoRows(db: Executor, ids?: readonly string[]): Promise<Co[]> {
  if (ids && ids.length === 0) return [];
  let q = db.selectFrom('co').selectAll().orderBy('is_platform', 'desc').orderBy('name');
  if (ids) q = q.where('id', 'in', ids);
  return (await q.execute()).map(toCo);
}

/** Inserts a CO and returns it. A name in use (the `co.name` unique constraint) is CO_NAME_TAKEN (409, field `name`). */
export async function insertCo(db: Executor, row: CoTable): Promise<Co> {
  await mapUniqueViolation(db.insertInto('co').values(row).execute(), coNameTaken);
  return toCo(row);
}

/** Changes a CO's name, description, status and `updated_at`; a name in use is CO_NAME_TAKEN. */
export async function updateCoRow(db: Executor, coId: string, patch: Partial<Pick<CoTable, 'name' | 'description' | 'status' | 'updated_at'>>): Promise<void> {
  await mapUniqueViolation(db.updateTable('co').set(patch).where('id', '=', coId).execute(), coNameTaken);
}
