import { newId } from '../../db/ids.ts';
import { inTransaction } from '../../db/transaction.ts';
import { isCoAdmin, isPlatformAdmin, type Actor } from '../auth/actor.ts';
import { lockCo } from '../cos/co.repository.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import type { ProvisioningContext } from '../provisioning/target.service.ts';
import { SOURCE_ERRORS } from './source-errors.ts';
import { loadSourceKind, type ProgressReporter, type SourceKind } from './source-kinds.ts';
import { applyReconcile, countsOf, planReconcile, type SkippedItem, type SourceDiff } from './source-reconcile.ts';
import { claimSourceRun, findSource, findSourceByName, insertSource, listSourceRows, updateSourceRow, type Source, type SourceRunCounts } from './source.repository.ts';

export type { Source, SourceRunCounts } from './source.repository.ts';

/*
 * Sources (src/core/sources/), the map:
 *   source.table.ts          the `source` table and the ownership columns (source_id, external_id)
 *   source-records.ts        what every kind maps its records to (SourcePersonRecord, SourceGroupRecord, SourceSnapshot)
 *   source-person.writer.ts  upsertSourcePerson, suspendSourcePerson, detachSourcePerson, sourceActor
 *   source-group.writer.ts   upsertSourceGroup, deleteSourceGroup, set/add/removeSourceGroupMembers
 *   source-reconcile.ts      planReconcile (the diff of a snapshot, read only) and applyReconcile
 *   source-ownership.ts      assertNotSourceOwned: local edits of source-owned rows answer SOURCE_OWNED (409)
 *   source-kinds.ts          the kinds (comanage-sql, …) and their contract
 *   source-lifecycle.service.ts  finaliseSource, terminateSource
 *   source.repository.ts     lookups: findSource, findPersonIdByExternalId, findGroupIdByExternalId, …
 *
 * This file: add, list, run (full or incremental, or dry), and the two ends of a source's life —
 * finalise and terminate (source-lifecycle.service.ts). CO admins only. A source's settings are
 * JSON sealed with the SecretBox (like LDAP bind passwords), shown only through the kind's
 * `describe`, never logged.
 */

function assertAdmin(actor: Actor, coId: string): void {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
}

/** A kind whose settings name a host to connect to is set up by platform admins only (SourceKind.connectsOut). */
function assertMaySetUp(actor: Actor, kind: SourceKind): void {
  assertThat(!kind.connectsOut || isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN, {
    message: `Only platform admins add a ${kind.kind} source or change its settings: they name a host Tessera connects to`,
  });
}

/** The CO's sources by name (CO admins). */
export async function listSources(ctx: ProvisioningContext, actor: Actor, coId: string): Promise<Source[]> {
  assertAdmin(actor, coId);
  return listSourceRows(ctx.db, coId);
}

/** One source of the CO (CO admins); SOURCE_NOT_FOUND (404). */
export async function getSource(ctx: ProvisioningContext, actor: Actor, coId: string, sourceId: string): Promise<Source> {
  assertAdmin(actor, coId);
  const source = (await findSource(ctx.db, coId, sourceId)) ?? (await findSourceByName(ctx.db, coId, sourceId));
  if (!source) throw new AppError(SOURCE_ERRORS.SOURCE_NOT_FOUND);
  return source;
}

/** The kind of a source; SOURCE_KIND_UNKNOWN (400) for a kind this Tessera does not have. */
export async function kindOf(kind: string): Promise<SourceKind> {
  const found = await loadSourceKind(kind);
  if (!found) throw new AppError(SOURCE_ERRORS.SOURCE_KIND_UNKNOWN, { field: 'kind', message: `Unknown source kind "${kind}"` });
  return found;
}

/** The source's settings, unsealed and parsed by its kind (for the kind's own code only; never shown). */
export async function sourceSettings(ctx: ProvisioningContext, source: Source): Promise<Record<string, unknown>> {
  const kind = await kindOf(source.kind);
  return kind.settings.parse(JSON.parse(ctx.secretBox.open(source.sealedSettings)));
}

/** The settings of a source as its kind describes them, secrets hidden. */
export async function describeSource(ctx: ProvisioningContext, source: Source): Promise<string> {
  try {
    return (await kindOf(source.kind)).describe(await sourceSettings(ctx, source));
  } catch (error) {
    return `(settings unreadable: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Adds a source to the CO (CO admins; platform admins only for a kind that connects out, such as
 * comanage-sql). The kind parses the settings (VALIDATION_FAILED with the field); they are stored
 * sealed. Errors: FORBIDDEN, SOURCE_KIND_UNKNOWN, SOURCE_NAME_TAKEN (409, field `name`).
 */
export async function addSource(ctx: ProvisioningContext, actor: Actor, coId: string, input: { kind: string; name: string; settings: Record<string, unknown> }): Promise<Source> {
  assertAdmin(actor, coId);
  const kind = await kindOf(input.kind);
  assertMaySetUp(actor, kind);
  const parsed = kind.settings.safeParse(input.settings);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'settings', message: i.message }));
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { issues, message: issues.map((i) => `${i.field}: ${i.message}`).join('; ') });
  }
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    await getCo(trx, coId);
    const now = ctx.clock.now().toISOString();
    const id = newId();
    await insertSource(trx, {
      id, co_id: coId, kind: input.kind, name: input.name, settings_encrypted: ctx.secretBox.seal(JSON.stringify(parsed.data)), status: 'active',
      last_run_at: null, last_full_run_at: null, last_run_counts: null, last_error: null, watermark: null, progress: null, created_at: now, updated_at: now,
    });
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SOURCE_ADDED', comment: `Source ${input.name} (${input.kind}) added: ${kind.describe(parsed.data)}` });
    return (await findSource(trx, coId, id))!;
  });
}

/**
 * Changes some of a source's settings (CO admins; platform admins only for a kind that connects
 * out), e.g. a new database URL after its password was
 * rotated, or another table prefix. `changes` holds only the settings to change; the others, the
 * URL's password included, are kept. The result is checked by the source's kind as when it was added
 * (VALIDATION_FAILED, 400, naming the setting) and stored encrypted; what the source owns is not
 * touched, and its next run reads with the new settings. Errors: NOT_FOUND, FORBIDDEN,
 * SOURCE_NOT_ACTIVE (422) for a finalised or terminated source. Recorded in history.
 */
export async function updateSourceSettings(ctx: ProvisioningContext, actor: Actor, coId: string, sourceId: string, changes: Record<string, unknown>): Promise<Source> {
  assertAdmin(actor, coId);
  const source = await getSource(ctx, actor, coId, sourceId);
  if (source.status !== 'active') throw new AppError(SOURCE_ERRORS.SOURCE_NOT_ACTIVE);
  const kind = await kindOf(source.kind);
  assertMaySetUp(actor, kind);
  const parsed = kind.settings.safeParse({ ...(await sourceSettings(ctx, source)), ...changes });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'settings', message: i.message }));
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { issues, message: issues.map((i) => `${i.field}: ${i.message}`).join('; ') });
  }
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    await updateSourceRow(trx, coId, source.id, { settings_encrypted: ctx.secretBox.seal(JSON.stringify(parsed.data)), updated_at: ctx.clock.now().toISOString() });
    const changed = Object.keys(changes).sort().join(', ') || 'nothing';
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SOURCE_SETTINGS_CHANGED', comment: `Source ${source.name}: settings changed (${changed}); now ${kind.describe(parsed.data)}` });
    return (await findSource(trx, coId, source.id))!;
  });
}

/** What a run did (or, dry, would do). */
export interface SourceRunResult {
  counts: SourceRunCounts;
  diff: SourceDiff;
  skipped: SkippedItem[];
}

/** A run stops being "under way" when its progress was not updated for this long (a killed process). */
const STALE_RUN_MS = 10 * 60_000;

const progressJson = (at: string, phase: string, done: number, total: number) => JSON.stringify({ at, phase, done, total });

/**
 * Runs a source (CO admins; the nightly run acts as the system). Full when `full` is set, when
 * the source has no watermark yet or when its kind cannot read changes alone; incremental
 * otherwise (only what changed since the watermark; nobody is suspended for being absent). The
 * whole snapshot is read before anything is written: a source that cannot be read (wrong URL,
 * missing tables, wrong layout) fails with SOURCE_RUN_FAILED and its message is kept as the
 * source's `last_error`, the CO untouched. A dry run writes nothing at all — not even the source's
 * bookkeeping — and returns the diff. Errors: SOURCE_NOT_ACTIVE, SOURCE_KIND_NOT_RUNNABLE,
 * SOURCE_RUN_BUSY (409, another run holds the source).
 */
export async function runSource(
  ctx: ProvisioningContext,
  actor: Actor,
  coId: string,
  sourceId: string,
  options: { dryRun?: boolean; full?: boolean; onProgress?: ProgressReporter } = {},
): Promise<SourceRunResult> {
  const source = await getSource(ctx, actor, coId, sourceId);
  if (source.status !== 'active') throw new AppError(SOURCE_ERRORS.SOURCE_NOT_ACTIVE, { message: `Source ${source.name} is ${source.status}` });
  const kind = await kindOf(source.kind);
  if (!kind.read) throw new AppError(SOURCE_ERRORS.SOURCE_KIND_NOT_RUNNABLE);
  const dryRun = options.dryRun === true;
  const started = Date.now();
  const now = () => ctx.clock.now().toISOString();
  if (!dryRun && !(await claimSourceRun(ctx.db, coId, source.id, progressJson(now(), 'starting', 0, 0), new Date(ctx.clock.now().getTime() - STALE_RUN_MS).toISOString()))) {
    throw new AppError(SOURCE_ERRORS.SOURCE_RUN_BUSY);
  }
  const progress: ProgressReporter = async (phase, done, total) => {
    if (!dryRun) await updateSourceRow(ctx.db, coId, source.id, { progress: progressJson(now(), phase, done, total) });
    await options.onProgress?.(phase, done, total);
  };
  const since = options.full || source.lastFullRunAt === null ? null : source.watermark;
  try {
    let snapshot;
    try {
      snapshot = await kind.read(await sourceSettings(ctx, source), { since, now: ctx.clock.now(), progress });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!dryRun) await updateSourceRow(ctx.db, coId, source.id, { last_error: message, last_run_at: now(), updated_at: now() });
      throw new AppError(SOURCE_ERRORS.SOURCE_RUN_FAILED, { message: `Source ${source.name} could not be read: ${message}` });
    }
    const mode = snapshot.complete ? 'full' : 'incremental';
    await progress('comparing', 0, snapshot.people.length);
    const plan = await planReconcile(ctx, source, snapshot);
    const skipped = dryRun ? [] : await applyReconcile(ctx, source, plan, progress);
    const counts = countsOf(plan.diff, { mode, dryRun, skipped: skipped.length, ms: Date.now() - started });
    if (!dryRun) {
      const at = now();
      await updateSourceRow(ctx.db, coId, source.id, {
        last_run_at: at,
        ...(snapshot.complete ? { last_full_run_at: at } : {}),
        last_run_counts: JSON.stringify(counts),
        last_error: skipped.length ? `${skipped.length} object(s) skipped; first: ${skipped[0]!.kind} ${skipped[0]!.externalId}: ${skipped[0]!.reason}` : null,
        ...(snapshot.watermark !== undefined ? { watermark: snapshot.watermark } : {}),
        updated_at: at,
      });
      const changed = counts.people.added + counts.people.changed + counts.people.suspended + counts.groups.added + counts.groups.changed + counts.groups.removed;
      if (changed > 0 || skipped.length > 0) {
        await recordHistory(ctx.db, ctx.clock, actor, { coId, action: 'SOURCE_RUN', comment: `Source ${source.name}: ${mode} run, ${JSON.stringify({ people: counts.people, groups: counts.groups, memberships: counts.memberships, skipped: skipped.length })}` });
      }
    }
    return { counts, diff: plan.diff, skipped };
  } finally {
    if (!dryRun) await updateSourceRow(ctx.db, coId, source.id, { progress: null });
  }
}
