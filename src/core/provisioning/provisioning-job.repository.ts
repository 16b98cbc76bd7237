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
}

function toJob(r: ProvisioningJobTable): ProvisioningJob {
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
  };
}

/* ---- The outbox side: writing jobs ---- */

/** The pending job of (target, person), if one waits. */
export async function findPendingJob(db: Executor, targetId: string, personId: string): Promise<Pick<ProvisioningJob, 'id' | 'kind'> | undefined> {
  return db.selectFrom('provisioning_job').select(['id', 'kind']).where('target_id', '=', targetId).where('person_id', '=', personId).where('state', '=', 'pending').executeTakeFirst();
}

/** Folds a new request into a pending job: its kind, when it runs, why, and (when given) its batch. */
export async function refreshPendingJob(db: Executor, jobId: string, values: { kind: JobKind; runAfter: string; reason: string; batchId: string | null }, now: string): Promise<void> {
  await db
    .updateTable('provisioning_job')
    .set({ kind: values.kind, run_after: values.runAfter, reason: values.reason, updated_at: now, ...(values.batchId ? { batch_id: values.batchId } : {}) })
    .where('id', '=', jobId)
    .execute();
}

/** Adds a pending job, due at `now`. */
export async function insertPendingJob(db: Executor, job: { coId: string; targetId: string; personId: string; kind: JobKind; reason: string; batchId: string | null }, now: string): Promise<void> {
  await db
    .insertInto('provisioning_job')
    .values({
      id: newId(),
      co_id: job.coId,
      target_id: job.targetId,
      person_id: job.personId,
      kind: job.kind,
      state: 'pending',
      attempts: 0,
      run_after: now,
      locked_by: null,
      locked_until: null,
      last_error: null,
      batch_id: job.batchId,
      reason: job.reason,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/* ---- The worker side: claiming and settling ---- */

/** Puts running jobs whose lease ran out before `now` back in the queue (their worker died). */
export async function releaseLapsedLeases(db: Executor, now: string): Promise<void> {
  await db.updateTable('provisioning_job').set({ state: 'pending', locked_by: null, locked_until: null }).where('state', '=', 'running').where('locked_until', '<', now).execute();
}

/** Up to `limit` (CO, person) pairs with pending jobs due at `now`, the longest waiting first. */
export async function duePeople(db: Executor, now: string, limit: number): Promise<Array<{ coId: string; personId: string }>> {
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

/**
 * Claims the person's due pending jobs for a worker until `lockedUntil`, in one UPDATE … WHERE
 * state = 'pending', so two workers never claim the same job. Returns the jobs claimed.
 */
export async function claimJobsOfPerson(db: Executor, coId: string, personId: string, workerId: string, lockedUntil: string, now: string): Promise<ProvisioningJob[]> {
  const rows = await db
    .updateTable('provisioning_job')
    .set({ state: 'running', locked_by: workerId, locked_until: lockedUntil, updated_at: now })
    .where('co_id', '=', coId)
    .where('person_id', '=', personId)
    .where('state', '=', 'pending')
    .where('run_after', '<=', now)
    .returningAll()
    .execute();
  return rows.map(toJob);
}

/** How a claimed job ends (or goes back to the queue). Fields left undefined stay as they are. */
export interface JobSettlement {
  state: JobState;
  attempts?: number;
  lastError?: string | null;
  runAfter?: string;
  updatedAt?: string;
  finishedAt?: string | null;
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
      locked_by: null,
      locked_until: null,
    })
    .where('id', 'in', [...jobIds])
    .where('state', '=', 'running')
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Settles the failed jobs of (target, person) as superseded (a later run succeeded). */
export async function supersedeFailedJobs(db: Executor, targetId: string, personId: string, now: string): Promise<void> {
  await db
    .updateTable('provisioning_job')
    .set({ state: 'superseded', finished_at: now, updated_at: now })
    .where('target_id', '=', targetId)
    .where('person_id', '=', personId)
    .where('state', '=', 'failed')
    .execute();
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
