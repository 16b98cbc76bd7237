import { sql, type Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { isId, newId } from '../../db/ids.ts';
import type { JobKind, JobState, ProvisioningJobTable } from './provisioning.table.ts';

/** A row of the provisioning outbox (provisioning_job). Timestamps are ISO strings. */
export interface ProvisioningJob {
  id: string;
  coId: string;
  targetId: string;
  personId: string;
  kind: JobKind;
  state: JobState;
  attempts: number;
  runAfter: string;
  lockedBy: string | null;
  lockedUntil: string | null;
  lastError: string | null;
  batchId: string | null;
  reason: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** When the job was put back because its target could not be reached; null when it is not held. */
  heldSince: string | null;
  /** Attempts that met an unreachable target (not counted against the target's maximum of retries). */
  heldAttempts: number;
}

/** A provisioning_job row as the worker and the pages see it. */
export function toJob(r: Selectable<ProvisioningJobTable>): ProvisioningJob {
  return {
    id: r.id,
    coId: r.co_id,
    targetId: r.target_id,
    personId: r.person_id,
    kind: r.kind,
    state: r.state,
    attempts: r.attempts,
    runAfter: r.run_after,
    lockedBy: r.locked_by,
    lockedUntil: r.locked_until,
    lastError: r.last_error,
    batchId: r.batch_id,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    heldSince: r.held_since,
    heldAttempts: r.held_attempts,
  };
}

/* ---- The outbox side: writing jobs ---- */

/** The predicate of `provisioning_job_pending_uq`: a job that waits and was never tried. */
const FRESH_PENDING = sql<boolean>`state = 'pending' and attempts = 0 and last_error is null`;

/**
 * Adds a pending job due at `now`, or folds it into the fresh one of (target, person) already
 * waiting (the unique index `provisioning_job_pending_uq`): in one `INSERT … ON CONFLICT DO
 * UPDATE`, so it never races the worker, which claims with its own single UPDATE. The folded job
 * becomes a deletion if either was one, runs at `now`, takes the new reason and, when given, the
 * new batch. A job the worker claimed meanwhile is no longer waiting: then a new one is added.
 */
export async function upsertPendingJob(db: Executor, job: PendingJob, now: string): Promise<void> {
  await upsertPendingJobs(db, [job], now);
}

/** A job to add (or fold into the one waiting) with `upsertPendingJob(s)`. */
export interface PendingJob {
  coId: string;
  targetId: string;
  personId: string;
  kind: JobKind;
  reason: string;
  batchId: string | null;
}

/** Rows per statement of `upsertPendingJobs` (15 parameters each: well within SQLite's and PostgreSQL's limits). */
const UPSERT_ROWS = 500;

/**
 * `upsertPendingJob` for many jobs, in multi-row statements of up to 500 rows, written in the
 * order given (callers give id order: see src/db/transaction.ts). Each (target, person) at most
 * once in `jobs`: one statement cannot fold a row into another row it writes.
 */
export async function upsertPendingJobs(db: Executor, jobs: readonly PendingJob[], now: string): Promise<void> {
  for (let i = 0; i < jobs.length; i += UPSERT_ROWS) {
    await db
      .insertInto('provisioning_job')
      .values(
        jobs.slice(i, i + UPSERT_ROWS).map((job) => ({
          id: newId(),
          co_id: job.coId,
          target_id: job.targetId,
          person_id: job.personId,
          kind: job.kind,
          state: 'pending' as const,
          attempts: 0,
          run_after: now,
          locked_by: null,
          locked_until: null,
          last_error: null,
          batch_id: job.batchId,
          reason: job.reason,
          created_at: now,
          updated_at: now,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['target_id', 'person_id'])
          .where(FRESH_PENDING)
          .doUpdateSet((eb) => ({
            kind: eb.case().when(eb.or([eb('provisioning_job.kind', '=', 'delete'), eb('excluded.kind', '=', 'delete')])).then(sql.lit<JobKind>('delete')).else(sql.lit<JobKind>('sync')).end(),
            run_after: eb.ref('excluded.run_after'),
            reason: eb.ref('excluded.reason'),
            updated_at: eb.ref('excluded.updated_at'),
            batch_id: eb.fn.coalesce('excluded.batch_id', 'provisioning_job.batch_id'),
          })),
      )
      .execute();
  }
}

/* ---- The worker side: claiming and settling ---- */

/** `last_error` of a job taken back from a worker that stopped (it also keeps the job out of the fresh-job index). */
export const TAKEN_BACK = 'taken back from a worker that stopped';

/**
 * Puts running jobs back in the queue: those whose lease ran out before `now` and, when given,
 * those held by the workers named in `workerIds` (known to be dead). Returns how many.
 */
export async function releaseLeases(db: Executor, now: string, workerIds: readonly string[] = []): Promise<number> {
  const result = await db
    .updateTable('provisioning_job')
    .set((eb) => ({ state: 'pending', locked_by: null, locked_until: null, last_error: eb.fn.coalesce('last_error', sql.lit(TAKEN_BACK)), updated_at: now }))
    .where('state', '=', 'running')
    .where((eb) => (workerIds.length > 0 ? eb.or([eb('locked_until', '<', now), eb('locked_by', 'in', [...workerIds])]) : eb('locked_until', '<', now)))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The workers holding running jobs. */
export async function workersHoldingJobs(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('provisioning_job').select('locked_by').distinct().where('state', '=', 'running').where('locked_by', 'is not', null).execute();
  return rows.flatMap((r) => (r.locked_by ? [r.locked_by] : []));
}

/** Extends the lease of the worker's running jobs to `lockedUntil` (its heartbeat). */
export async function renewLeases(db: Executor, workerId: string, lockedUntil: string): Promise<void> {
  await db.updateTable('provisioning_job').set({ locked_until: lockedUntil }).where('state', '=', 'running').where('locked_by', '=', workerId).execute();
}

/** Due jobs `duePeople` reads in `run_after` order per person it wants, before it groups them all instead. */
const DUE_ROWS_PER_PERSON = 4;

/**
 * Up to `limit` (CO, person) pairs with pending jobs due at `now`, the longest waiting first. The
 * due jobs are read first in `run_after` order on the (state, run_after) index, a few per person
 * wanted, so a large backlog is not grouped whole for each pass; only when those hold too few
 * people (many jobs per person) is every due job grouped.
 */
export async function duePeople(db: Executor, now: string, limit: number): Promise<Array<{ coId: string; personId: string }>> {
  const scan = limit * DUE_ROWS_PER_PERSON;
  const first = await db.selectFrom('provisioning_job').select(['co_id', 'person_id']).where('state', '=', 'pending').where('run_after', '<=', now).orderBy('run_after').limit(scan).execute();
  const seen = new Set<string>();
  const people: Array<{ coId: string; personId: string }> = [];
  for (const r of first) {
    if (seen.has(r.person_id)) continue;
    seen.add(r.person_id);
    people.push({ coId: r.co_id, personId: r.person_id });
    if (people.length === limit) return people;
  }
  // Every due job was read: these are all the people.
  if (first.length < scan) return people;
  const rows = await db
    .selectFrom('provisioning_job')
    .select(['co_id', 'person_id'])
    .select((eb) => eb.fn.min('run_after').as('first'))
    .where('state', '=', 'pending')
    .where('run_after', '<=', now)
    .groupBy(['co_id', 'person_id'])
    .orderBy('first')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ coId: r.co_id, personId: r.person_id }));
}

/** How a claimed job ends (or goes back to the queue). Fields left undefined stay as they are. */
export interface JobSettlement {
  state: JobState;
  attempts?: number;
  lastError?: string | null;
  runAfter?: string;
  updatedAt?: string;
  finishedAt?: string | null;
  /** When the job was held because its target could not be reached (null: not held). */
  heldSince?: string | null;
  heldAttempts?: number;
}

/**
 * Settles claimed jobs and releases their lease, but only while they are still the worker's: a job
 * whose lease ran out may have been taken over by another worker, whose outcome must stand.
 * Returns whether any job was still the worker's (true for no jobs).
 */
export async function settleJobs(db: Executor, jobIds: readonly string[], workerId: string, s: JobSettlement): Promise<boolean> {
  if (jobIds.length === 0) return true;
  const result = await db
    .updateTable('provisioning_job')
    .set({
      state: s.state,
      ...(s.attempts !== undefined ? { attempts: s.attempts } : {}),
      ...(s.lastError !== undefined ? { last_error: s.lastError } : {}),
      ...(s.runAfter !== undefined ? { run_after: s.runAfter } : {}),
      ...(s.updatedAt !== undefined ? { updated_at: s.updatedAt } : {}),
      ...(s.finishedAt !== undefined ? { finished_at: s.finishedAt } : {}),
      ...(s.heldSince !== undefined ? { held_since: s.heldSince } : {}),
      ...(s.heldAttempts !== undefined ? { held_attempts: s.heldAttempts } : {}),
      locked_by: null,
      locked_until: null,
    })
    .where('id', 'in', [...jobIds])
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/* ---- What operators see ---- */

/** Failures shown per target at most: the most recently updated. */
export const FAILURES_PER_TARGET = 500;

/**
 * Failing jobs (failed for good, or pending after a failed attempt) of one target or, without
 * `targetId`, of every target of the CO, in one query: by target order (ordinal, creation), then
 * most recently updated first, at most FAILURES_PER_TARGET per target.
 */
export async function failingJobs(db: Executor, coId: string, targetId?: string): Promise<Array<ProvisioningJob & { targetDescription: string }>> {
  const ranked = db
    .selectFrom('provisioning_job as j')
    .innerJoin('provisioning_target as t', 't.id', 'j.target_id')
    .selectAll('j')
    .select(['t.description as target_description', 't.ordinal as target_ordinal', 't.created_at as target_created_at'])
    .select((eb) => eb.fn.agg<number>('row_number').over((over) => over.partitionBy('j.target_id').orderBy('j.updated_at', 'desc').orderBy('j.id', 'desc')).as('rank'))
    .where('j.co_id', '=', coId)
    .$if(targetId !== undefined, (q) => q.where('j.target_id', '=', targetId!))
    .where((eb) => eb.or([eb('j.state', '=', 'failed'), eb.and([eb('j.state', '=', 'pending'), eb('j.attempts', '>', 0)])]));
  const rows = await db
    .selectFrom(ranked.as('r'))
    .selectAll('r')
    .where('r.rank', '<=', FAILURES_PER_TARGET)
    .orderBy('r.target_ordinal')
    .orderBy('r.target_created_at')
    .orderBy('r.updated_at', 'desc')
    .orderBy('r.id', 'desc')
    .execute();
  return rows.map((r) => ({ ...toJob(r), targetDescription: r.target_description }));
}

/** Puts a failed job of the CO back in the queue with fresh retries. Returns whether there was one. */
export async function requeueFailedJob(db: Executor, coId: string, jobId: string, now: string): Promise<boolean> {
  if (!isId(jobId)) return false;
  const result = await db
    .updateTable('provisioning_job')
    .set({ state: 'pending', attempts: 0, run_after: now, finished_at: null, updated_at: now })
    .where('id', '=', jobId)
    .where('co_id', '=', coId)
    .where('state', '=', 'failed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The person's jobs that are not over (pending, running) or failed for good. */
export async function openJobsOfPerson(db: Executor, coId: string, personId: string): Promise<Array<Pick<ProvisioningJob, 'targetId' | 'state' | 'lastError'>>> {
  const rows = await db
    .selectFrom('provisioning_job')
    .select(['target_id', 'state', 'last_error'])
    .where('co_id', '=', coId)
    .where('person_id', '=', personId)
    .where('state', 'in', ['pending', 'running', 'failed'])
    .execute();
  return rows.map((r) => ({ targetId: r.target_id, state: r.state, lastError: r.last_error }));
}

/**
 * A batch's jobs in the CO, counted per state; `retrying` counts those that failed at least once
 * or wait behind an earlier target that failed (no attempts, but an error).
 */
export async function batchCounts(db: Executor, coId: string, batchId: string): Promise<Array<{ state: JobState; count: number; retrying: number }>> {
  const rows = await db
    .selectFrom('provisioning_job')
    .select(['state'])
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .select((eb) => eb.fn.sum<string | number>(eb.case().when(eb.or([eb('attempts', '>', 0), eb('last_error', 'is not', null)])).then(1).else(0).end()).as('retrying'))
    .where('co_id', '=', coId)
    .where('batch_id', '=', batchId)
    .groupBy('state')
    .execute();
  return rows.map((r) => ({ state: r.state, count: Number(r.n), retrying: Number(r.retrying ?? 0) }));
}

/** Whether a batch has jobs in any CO. */
export async function batchExists(db: Executor, batchId: string): Promise<boolean> {
  if (!isId(batchId)) return false;
  return (await db.selectFrom('provisioning_job').select('id').where('batch_id', '=', batchId).limit(1).executeTakeFirst()) !== undefined;
}
