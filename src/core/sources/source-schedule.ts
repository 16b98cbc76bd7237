import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { ProvisioningContext } from '../provisioning/target.service.ts';
import { loadSourceKind } from './source-kinds.ts';
import { listSourceRows } from './source.repository.ts';
import { runSource } from './source.service.ts';

/** How often `tessera serve` / `tessera worker` look for source runs that are due. */
export const SOURCE_SCHEDULE_MS = 5 * 60_000;
/** A full reconciliation at least this often (nightly). */
export const FULL_RUN_EVERY_MS = 24 * 3600_000;
/** An incremental run at least this often in between. */
export const INCREMENTAL_RUN_EVERY_MS = 15 * 60_000;

/**
 * Runs the sources that are due, as the system: a full run when the last full one is a day old
 * (or there was none), an incremental run when the last run is 15 minutes old. Only active
 * sources of kinds Tessera reads. A source that fails is recorded (its `last_error`) and logged,
 * and the others still run. Returns how many runs were made.
 */
export async function runDueSources(ctx: ProvisioningContext): Promise<number> {
  const now = ctx.clock.now().getTime();
  let runs = 0;
  for (const source of await listSourceRows(ctx.db, undefined)) {
    if (source.status !== 'active' || !(await loadSourceKind(source.kind))?.read) continue;
    const full = source.lastFullRunAt === null || now - Date.parse(source.lastFullRunAt) >= FULL_RUN_EVERY_MS;
    const incremental = source.lastRunAt === null || now - Date.parse(source.lastRunAt) >= INCREMENTAL_RUN_EVERY_MS;
    if (!full && !incremental) continue;
    try {
      const result = await runSource(ctx, SYSTEM_ACTOR, source.coId, source.id, { full });
      ctx.logger.info({ source: source.name, coId: source.coId, counts: result.counts }, 'source run');
    } catch (error) {
      ctx.logger.warn({ source: source.name, coId: source.coId, err: error instanceof Error ? error.message : String(error) }, 'source run failed');
    }
    runs++;
  }
  return runs;
}
