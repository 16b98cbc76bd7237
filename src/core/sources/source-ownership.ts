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
