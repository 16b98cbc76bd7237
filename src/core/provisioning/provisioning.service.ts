import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { lockCo } from '../cos/co.repository.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { findPerson } from '../people/person.repository.ts';
import { listPersonIdsOfCo } from '../people/person.repository.ts';
import { batchCounts, batchExists, failingJobs, openJobsOfPerson, requeueFailedJob, upsertPendingJobs, type ProvisioningJob } from './provisioning-job.repository.ts';
import { statesOfPerson } from './provisioning-state.repository.ts';
import { findStoredTarget, targetsOfCo } from './provisioning-target.repository.ts';
import type { JobKind, JobState } from './provisioning.table.ts';
import type { ProvisioningContext } from './target.service.ts';
import { inTransaction } from '../../db/transaction.ts';

export interface PersonTargetState {
  targetId: string;
  targetDescription: string;
  status: 'provisioned' | 'removed' | 'failed' | 'pending' | 'never';
  targetKey: string | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  pendingJobs: number;
}

/** Per target, what it holds for the person: provisioned, pending, failed with its error, when. */
export async function personProvisioningStates(ctx: ProvisioningContext, actor: Actor, coId: string, personId: string): Promise<PersonTargetState[]> {
  const self = personIdOf(actor, coId) === personId;
  if (!self && !isCoAdmin(actor, coId)) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  if (!(await findPerson(ctx.db, coId, personId))) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  const [targets, states, jobs] = await Promise.all([targetsOfCo(ctx.db, coId), statesOfPerson(ctx.db, coId, personId), openJobsOfPerson(ctx.db, coId, personId)]);
  return targets.map((t) => {
    const s = states.find((x) => x.targetId === t.id);
    const waiting = jobs.filter((j) => j.targetId === t.id && j.state !== 'failed');
    const dead = jobs.find((j) => j.targetId === t.id && j.state === 'failed');
    const status = dead ? 'failed' : waiting.length > 0 && s?.status !== 'failed' ? 'pending' : (s?.status ?? 'never');
    return {
      targetId: t.id,
      targetDescription: t.description,
      status,
      targetKey: s?.targetKey ?? null,
      lastError: s?.lastError ?? dead?.lastError ?? null,
      lastAttemptAt: s?.lastAttemptAt ?? null,
      lastSuccessAt: s?.lastSuccessAt ?? null,
      pendingJobs: waiting.length,
    };
  });
}

export interface JobView {
  id: string;
  personId: string;
  kind: JobKind;
  state: JobState;
  attempts: number;
  lastError: string | null;
  runAfter: string;
  updatedAt: string;
}

function jobView(j: ProvisioningJob): JobView {
  return { id: j.id, personId: j.personId, kind: j.kind, state: j.state, attempts: j.attempts, lastError: j.lastError, runAfter: j.runAfter, updatedAt: j.updatedAt };
}

/**
 * A target's failures: jobs failing and retrying, and jobs that used up their retries, most
 * recently updated first (at most 500). Throws FORBIDDEN for non-admins, PROVISIONING_TARGET_NOT_FOUND.
 */
export async function targetFailures(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string): Promise<JobView[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!(await findStoredTarget(ctx.db, coId, targetId))) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
  return (await failingJobs(ctx.db, coId, targetId)).map(jobView);
}

/**
 * The failures of every target of the CO (as `targetFailures`, with the target's description), in
 * target order, read in one query. Throws FORBIDDEN for non-admins.
 */
export async function coTargetFailures(ctx: ProvisioningContext, actor: Actor, coId: string): Promise<Array<JobView & { targetId: string; targetDescription: string }>> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return (await failingJobs(ctx.db, coId)).map((j) => ({ ...jobView(j), targetId: j.targetId, targetDescription: j.targetDescription }));
}

/** Puts a failed job back in the queue with fresh retries. */
export async function retryJob(ctx: ProvisioningContext, actor: Actor, coId: string, jobId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!isId(jobId)) throw new AppError(CORE_ERRORS.NOT_FOUND);
  if (!(await requeueFailedJob(ctx.db, coId, jobId, ctx.clock.now().toISOString()))) throw new AppError(CORE_ERRORS.NOT_FOUND, { message: 'No such failed job' });
}

export interface Batch {
  batchId: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  /**
   * Pending jobs that failed at least once and wait for their next retry, or that wait behind an
   * earlier target of the same person that failed.
   */
  retrying: number;
}

/**
 * Reprovisions one person or the whole CO: a job per (target, person) in one batch whose progress
 * can be followed. Manual targets are included (this is how they are run); disabled ones are not.
 */
export async function requestReprovision(ctx: ProvisioningContext, actor: Actor, coId: string, opts: { personId?: string; targetId?: string } = {}): Promise<Batch> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const batchId = newId();
  await inTransaction(ctx.db, async (trx) => {
    // Reaches every person: alone in the CO (lock order in src/db/transaction.ts), so two
    // reprovisions, or a reprovision and a change, never wait for each other's jobs in a cycle.
    await lockCo(trx, coId, 'exclusive');
    const co = await getCo(trx, coId);
    let targets = (await targetsOfCo(trx, coId)).filter((t) => t.mode !== 'disabled');
    if (opts.targetId) {
      targets = targets.filter((t) => t.id === opts.targetId);
      if (targets.length === 0) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    }
    let people: string[];
    if (opts.personId) {
      if (!(await findPerson(trx, coId, opts.personId))) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
      people = [opts.personId];
    } else {
      people = await listPersonIdsOfCo(trx, coId);
    }
    // Multi-row statements: one per 500 jobs, not one per job (targets in order, people in id order).
    const now = ctx.clock.now().toISOString();
    await upsertPendingJobs(
      trx,
      targets.flatMap((target) => people.map((personId) => ({ coId, targetId: target.id, personId, kind: 'sync' as const, reason: 'reprovision', batchId }))),
      now,
    );
    await recordHistory(trx, ctx.clock, actor, {
      coId,
      personId: opts.personId ?? null,
      action: 'REPROVISION_REQUESTED',
      comment: `Reprovisioning of ${opts.personId ? 'this person' : `all ${people.length} people of ${co.name}`} requested (${targets.length} target(s))`,
    });
  });
  return batchProgress(ctx, actor, coId, batchId);
}

export async function batchProgress(ctx: ProvisioningContext, actor: Actor, coId: string, batchId: string): Promise<Batch> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const rows = await batchCounts(ctx.db, coId, batchId);
  const count = (states: JobState[]) => rows.filter((r) => states.includes(r.state)).reduce((a, r) => a + r.count, 0);
  const total = count(['pending', 'running', 'succeeded', 'failed', 'superseded']);
  // A batch with no jobs here is empty (a CO with no people or targets) unless its jobs are in
  // another CO: that one is not found, like every id of another CO.
  if (total === 0 && (!isId(batchId) || (await batchExists(ctx.db, batchId)))) {
    throw new AppError(CORE_ERRORS.PROVISIONING_BATCH_NOT_FOUND);
  }
  return { batchId, total, done: count(['succeeded', 'superseded']), failed: count(['failed']), pending: count(['pending', 'running']), retrying: rows.filter((r) => r.state === 'pending').reduce((a, r) => a + r.retrying, 0) };
}
