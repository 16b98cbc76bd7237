import type { Executor } from '../../db/database.ts';

/** The time through which the named sweep has handled transitions; undefined before its first run. */
export async function findSweepMark(db: Executor, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('sweep_mark').select('swept_through').where('name', '=', name).executeTakeFirst();
  return row?.swept_through;
}

/**
 * Records that the named sweep handled every transition through `through` (ISO timestamp). Never
 * moves the mark backwards, so two processes sweeping at once (several workers on one PostgreSQL)
 * cannot undo each other's progress.
 */
export async function advanceSweepMark(db: Executor, name: string, through: string): Promise<void> {
  await db
    .insertInto('sweep_mark')
    .values({ name, swept_through: through })
    .onConflict((oc) => oc.column('name').doUpdateSet({ swept_through: through }).where('sweep_mark.swept_through', '<', through))
    .execute();
}
