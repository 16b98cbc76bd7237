import type { Executor } from '../../db/database.ts';
import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import { isId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { SOURCE_ERRORS } from './source-errors.ts';
import type { SourceStatus, SourceTable } from './source.table.ts';

/** What a run did, per kind of object (stored as `last_run_counts`). */
export interface SourceRunCounts {
  mode: 'full' | 'incremental';
  dryRun: boolean;
  people: { added: number; changed: number; suspended: number; unchanged: number };
  groups: { added: number; changed: number; removed: number; unchanged: number };
  memberships: { added: number; changed: number; removed: number; unchanged: number };
  /** Objects the run could not write, each with its reason (e.g. an identifier another person holds). */
  skipped: number;
  /** Milliseconds the run took, reading and writing. */
  ms: number;
}

/** Where a run under way is (stored as `progress`, shown by the CLI and the source's page). */
export interface SourceProgress {
  phase: string;
  done: number;
  total: number;
  at: string;
}

/** A source as services return it; its settings stay sealed (see source.service.ts for reading them). */
export interface Source {
  id: string;
  coId: string;
  kind: string;
  name: string;
  sealedSettings: string;
  status: SourceStatus;
  lastRunAt: string | null;
  lastFullRunAt: string | null;
  lastRunCounts: SourceRunCounts | null;
  lastError: string | null;
  watermark: string | null;
  progress: SourceProgress | null;
  createdAt: string;
  updatedAt: string;
}

function parseJson<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

const toSource = (r: SourceTable): Source => ({
  id: r.id,
  coId: r.co_id,
  kind: r.kind,
  name: r.name,
  sealedSettings: r.settings_encrypted,
  status: r.status,
  lastRunAt: r.last_run_at,
  lastFullRunAt: r.last_full_run_at,
  lastRunCounts: parseJson<SourceRunCounts>(r.last_run_counts),
  lastError: r.last_error,
  watermark: r.watermark,
  progress: parseJson<SourceProgress>(r.progress),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Inserts a source; a name the CO has already (`source_co_name_uq`) is SOURCE_NAME_TAKEN (409, field `name`). */
export async function insertSource(db: Executor, row: SourceTable): Promise<void> {
  await mapUniqueViolation(db.insertInto('source').values(row).execute(), () => new AppError(SOURCE_ERRORS.SOURCE_NAME_TAKEN, { field: 'name' }));
}

/** One source of the CO by id; undefined for a malformed id or another CO's source. */
export async function findSource(db: Executor, coId: string, sourceId: string): Promise<Source | undefined> {
  if (!isId(sourceId)) return undefined;
  const row = await db.selectFrom('source').selectAll().where('co_id', '=', coId).where('id', '=', sourceId).executeTakeFirst();
  return row && toSource(row);
}

/** One source of the CO by name. */
export async function findSourceByName(db: Executor, coId: string, name: string): Promise<Source | undefined> {
  const row = await db.selectFrom('source').selectAll().where('co_id', '=', coId).where('name', '=', name).executeTakeFirst();
  return row && toSource(row);
}

/** Sources named so, in any CO (the CLI names a source without its CO when the name is unambiguous). */
export async function findSourcesNamed(db: Executor, name: string): Promise<Source[]> {
  const rows = await db.selectFrom('source').selectAll().where('name', '=', name).orderBy('created_at').execute();
  return rows.map(toSource);
}

/** The CO's sources by name; every CO's when `coId` is undefined (CLI, nightly runs). */
export async function listSourceRows(db: Executor, coId: string | undefined): Promise<Source[]> {
  let q = db.selectFrom('source').selectAll();
  if (coId !== undefined) q = q.where('co_id', '=', coId);
  return (await q.orderBy('co_id').orderBy('name').execute()).map(toSource);
}

/** Changes a source's bookkeeping columns. */
export async function updateSourceRow(
  db: Executor,
  coId: string,
  sourceId: string,
  patch: Partial<Pick<SourceTable, 'status' | 'last_run_at' | 'last_full_run_at' | 'last_run_counts' | 'last_error' | 'watermark' | 'progress' | 'settings_encrypted' | 'updated_at'>>,
): Promise<void> {
  await db.updateTable('source').set(patch).where('co_id', '=', coId).where('id', '=', sourceId).execute();
}

/**
 * Claims the source for a run: sets `progress` only when no run holds it (or the one that did
 * stopped updating it before `staleBefore`, e.g. a killed process). Returns whether it was claimed.
 */
export async function claimSourceRun(db: Executor, coId: string, sourceId: string, progress: string, staleBefore: string): Promise<boolean> {
  const result = await db
    .updateTable('source')
    .set({ progress })
    .where('co_id', '=', coId)
    .where('id', '=', sourceId)
    .where((eb) => eb.or([eb('progress', 'is', null), eb('progress', '<', `{"at":"${staleBefore}`)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The names of the sources with these ids, in the CO (for "owned by source X" messages). */
export async function sourceNamesByIds(db: Executor, coId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('source').select(['id', 'name']).where('co_id', '=', coId).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The person of the CO a source brought in with this external id. */
export async function findPersonIdByExternalId(db: Executor, coId: string, sourceId: string, externalId: string): Promise<string | undefined> {
  const row = await db.selectFrom('co_person').select('id').where('co_id', '=', coId).where('source_id', '=', sourceId).where('external_id', '=', externalId).executeTakeFirst();
  return row?.id;
}

/** The group of the CO a source brought in with this external id. */
export async function findGroupIdByExternalId(db: Executor, coId: string, sourceId: string, externalId: string): Promise<string | undefined> {
  const row = await db.selectFrom('co_group').select('id').where('co_id', '=', coId).where('source_id', '=', sourceId).where('external_id', '=', externalId).executeTakeFirst();
  return row?.id;
}

/** Person ids by external id for every person the source brought into the CO. */
export async function personIdsOfSource(db: Executor, coId: string, sourceId: string): Promise<Map<string, string>> {
  const rows = await db.selectFrom('co_person').select(['id', 'external_id']).where('co_id', '=', coId).where('source_id', '=', sourceId).execute();
  return new Map(rows.map((r) => [r.external_id ?? '', r.id]));
}
