// The worker's set-based statements: claiming the jobs of many people at once, reading their
// states at once, and settling a batch of outcomes with one statement per kind of outcome.
import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { takesRowLocks } from '../../db/transaction.ts';
import { unindexed } from '../../db/index-hints.ts';
import type { PreviousState } from './provisioner.ts';
import { toJob, type ProvisioningJob } from './provisioning-job.repository.ts';

/**
 * Claims the due pending jobs of these people of one CO for a worker until `lockedUntil`, in one
 * UPDATE … WHERE state = 'pending' … RETURNING, so two workers never claim the same job; and only
 * for people with no job running under a live lease, so two workers never provision one person at
 * once (the one that read older data could finish last and leave it in the directory). On
 * PostgreSQL claims of one person are serialised by a transaction-level advisory lock (a person
 * whose lock another claim holds is left to that claim), and the jobs a change's transaction is
 * writing right now are skipped (`FOR UPDATE SKIP LOCKED`), so the worker never waits for a
 * change, nor a change for the worker; the change nudges it once committed. SQLite runs one writer
 * at a time anyway. Runs inside the caller's transaction. Returns the jobs claimed.
 */
export async function claimJobsOfPeople(trx: Executor, coId: string, personIds: readonly string[], workerId: string, lockedUntil: string, now: string): Promise<ProvisioningJob[]> {
  if (personIds.length === 0) return [];
  const locks = takesRowLocks(trx);
  let free = [...personIds];
  if (locks) {
    const { rows } = await sql<{ id: string }>`select p.id from unnest(${free}::text[]) as p(id) where pg_try_advisory_xact_lock(hashtextextended('provisioning:' || p.id, 0))`.execute(trx);
    free = rows.map((r) => r.id);
    if (free.length === 0) return [];
  }
  // People with a job running under a live lease are someone else's for now: read once (not per row).
  const busy = trx.selectFrom('provisioning_job as r').select('r.person_id').where('r.person_id', 'in', free).where('r.state', '=', 'running').where('r.locked_until', '>=', now);
  let update = trx
    .updateTable('provisioning_job')
    .set({ state: 'running', locked_by: workerId, locked_until: lockedUntil, updated_at: now })
    .where('person_id', 'in', free)
    .where('co_id', '=', coId)
    // On SQLite the unary + keeps the planner off the (state, run_after) index, which would scan
    // every pending job of the backlog for each chunk: the people's index finds their few jobs.
    .where(locks ? sql.ref('state') : sql`+state`, '=', 'pending')
    .where(locks ? sql.ref('run_after') : sql`+run_after`, '<=', now)
    .where('person_id', 'not in', busy);
  if (locks) {
    const due = trx.selectFrom('provisioning_job').select('id').where('co_id', '=', coId).where('person_id', 'in', free).where('state', '=', 'pending').where('run_after', '<=', now);
    update = update.where('id', 'in', due.forUpdate().skipLocked());
  }
  const rows = await update.returningAll().execute();
  return rows.map(toJob);
}

/** What a target recorded for a person, with the error of its last attempt. */
export interface StoredState extends PreviousState {
  lastError: string | null;
}

/** The key of a (target, person) pair in the maps of this module. */
export const pairKey = (targetId: string, personId: string): string => `${targetId}\u0000${personId}`;

function parseDetail(detail: string): Record<string, unknown> {
  try {
    return JSON.parse(detail) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Every target's state for these people of the CO, in one query, by `pairKey(target, person)`. */
export async function statesOfPeople(db: Executor, coId: string, personIds: readonly string[]): Promise<Map<string, StoredState>> {
  const out = new Map<string, StoredState>();
  if (personIds.length === 0) return out;
  const rows = await db.selectFrom('provisioning_state').select(['target_id', 'person_id', 'status', 'target_key', 'detail', 'last_error']).where('co_id', '=', coId).where('person_id', 'in', [...personIds]).execute();
  for (const r of rows) out.set(pairKey(r.target_id, r.person_id), { status: r.status, targetKey: r.target_key, detail: parseDetail(r.detail), lastError: r.last_error });
  return out;
}

/**
 * Settles the worker's running jobs among `jobIds` as succeeded (one more attempt, no error, no
 * longer held) or as superseded; jobs no longer the worker's (their lease ran out and another took
 * them) are left alone. Returns the ids settled.
 */
export async function settleJobsAs(db: Executor, jobIds: readonly string[], workerId: string, outcome: 'succeeded' | 'superseded', now: string, lastError: string | null = null): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .updateTable('provisioning_job')
    .set((eb) => ({
      state: outcome,
      ...(outcome === 'succeeded' ? { attempts: eb('attempts', '+', 1), last_error: null, held_since: null } : lastError !== null ? { last_error: lastError } : {}),
      finished_at: now,
      updated_at: now,
      locked_by: null,
      locked_until: null,
    }))
    .where('id', 'in', [...jobIds])
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .returning('id')
    .execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * Settles as superseded (a later run succeeded) the jobs of one target for these people that an
 * earlier change left behind: those failed for good, and those waiting to be tried again (after a
 * failed attempt, behind a failed target, held, or taken back from a stopped worker). A fresh
 * waiting job (no attempt, no error) stays: it may come from a change made after the run read the person.
 */
export async function supersedeFailedJobsOfPeople(db: Executor, targetId: string, personIds: readonly string[], now: string): Promise<void> {
  if (personIds.length === 0) return;
  await db
    .updateTable('provisioning_job')
    .set({ state: 'superseded', finished_at: now, updated_at: now, held_since: null })
    .where('target_id', '=', targetId)
    .where('person_id', 'in', [...personIds])
    .where((eb) => eb.or([eb('state', '=', 'failed'), eb.and([eb('state', '=', 'pending'), eb.or([eb('attempts', '>', 0), eb('last_error', 'is not', null)])])]))
    .execute();
}

/** A state row to write: what a run found the target to hold for the person. */
export interface StateRow {
  coId: string;
  targetId: string;
  personId: string;
  status: PreviousState['status'];
  targetKey: string | null;
  detail: Record<string, unknown>;
}

/**
 * Records successful runs whose result changed, in one `INSERT … ON CONFLICT DO UPDATE` (each
 * (target, person) at most once in `rows`): status, key and detail, no error, attempted and
 * succeeded at `now`.
 */
export async function saveSucceededStates(db: Executor, rows: readonly StateRow[], now: string): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('provisioning_state')
    .values(
      rows.map((r) => ({
        id: newId(),
        co_id: r.coId,
        target_id: r.targetId,
        person_id: r.personId,
        status: r.status,
        target_key: r.targetKey,
        detail: JSON.stringify(r.detail),
        last_error: null,
        last_attempt_at: now,
        last_success_at: now,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['target_id', 'person_id']).doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        target_key: eb.ref('excluded.target_key'),
        detail: eb.ref('excluded.detail'),
        last_error: eb.ref('excluded.last_error'),
        last_attempt_at: eb.ref('excluded.last_attempt_at'),
        last_success_at: eb.ref('excluded.last_success_at'),
      })),
    )
    .execute();
}

/** Marks as attempted and succeeded at `now` the states of people a run found unchanged on one target (nothing else to write). */
export async function touchStates(db: Executor, targetId: string, personIds: readonly string[], now: string): Promise<void> {
  if (personIds.length === 0) return;
  await db.updateTable('provisioning_state').set({ last_attempt_at: now, last_success_at: now }).where('target_id', '=', targetId).where('person_id', 'in', [...personIds]).execute();
}

/**
 * The people of the CO among `personIds` that still exist, their rows locked against deletion
 * (FOR KEY SHARE on PostgreSQL, in id order; after the targets, before the jobs: the lock order of
 * src/db/transaction.ts). SQLite only reads.
 */
export async function keepPeople(db: Executor, coId: string, personIds: readonly string[]): Promise<Set<string>> {
  if (personIds.length === 0) return new Set();
  const query = db.selectFrom('co_person').select('id').where(unindexed(db, 'co_id'), '=', coId).where('id', 'in', [...personIds]).orderBy('id');
  const rows = await (takesRowLocks(db) ? query.forKeyShare() : query).execute();
  return new Set(rows.map((r) => r.id));
}

/* ---- Held jobs: a target that could not be reached ---- */

/** The targets (with their CO) that have jobs held because they could not be reached. */
export async function heldTargets(db: Executor): Promise<Array<{ coId: string; targetId: string }>> {
  const rows = await db.selectFrom('provisioning_job').select(['co_id', 'target_id']).distinct().where('held_since', 'is not', null).where('state', '=', 'pending').execute();
  return rows.map((r) => ({ coId: r.co_id, targetId: r.target_id }));
}

/** Makes the held jobs of a target due at `now` (its system answers again). Returns how many. */
export async function releaseHeldJobs(db: Executor, targetId: string, now: string): Promise<number> {
  const result = await db
    .updateTable('provisioning_job')
    .set({ held_since: null, run_after: now, updated_at: now })
    .where('target_id', '=', targetId)
    .where('held_since', 'is not', null)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
