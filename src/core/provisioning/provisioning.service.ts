import { newId } from '../../db/ids.ts';
import { isId } from '../../db/ids.ts';
import { isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { findPerson } from '../people/person.repository.ts';
import { enqueueJob } from './outbox.ts';
import type { JobKind, JobState } from './provisioning.table.ts';
import { findTargetRow, targetRowsOf, type ProvisioningContext } from './target.service.ts';

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
  const [targets, states, jobs] = await Promise.all([
    targetRowsOf(ctx.db, coId),
    ctx.db.selectFrom('provisioning_state').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).execute(),
    ctx.db.selectFrom('provisioning_job').select(['target_id', 'state', 'last_error']).where('co_id', '=', coId).where('person_id', '=', personId).where('state', 'in', ['pending', 'running', 'failed']).execute(),
  ]);
  return targets.map((t) => {
    const s = states.find((x) => x.target_id === t.id);
    const waiting = jobs.filter((j) => j.target_id === t.id && j.state !== 'failed');
    const dead = jobs.find((j) => j.target_id === t.id && j.state === 'failed');
    const status = dead ? 'failed' : waiting.length > 0 && s?.status !== 'failed' ? 'pending' : (s?.status ?? 'never');
    return {
      targetId: t.id,
      targetDescription: t.description,
      status,
      targetKey: s?.target_key ?? null,
      lastError: s?.last_error ?? dead?.last_error ?? null,
      lastAttemptAt: s?.last_attempt_at ?? null,
      lastSuccessAt: s?.last_success_at ?? null,
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

/** A target's failures: jobs failing and retrying, and jobs that used up their retries. */
export async function targetFailures(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string): Promise<JobView[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!(await findTargetRow(ctx.db, coId, targetId))) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
  const rows = await ctx.db
    .selectFrom('provisioning_job')
    .selectAll()
    .where('co_id', '=', coId)
    .where('target_id', '=', targetId)
    .where((eb) => eb.or([eb('state', '=', 'failed'), eb.and([eb('state', '=', 'pending'), eb('attempts', '>', 0)])]))
    .orderBy('updated_at', 'desc')
    .limit(500)
    .execute();
  return rows.map((r) => ({ id: r.id, personId: r.person_id, kind: r.kind, state: r.state, attempts: r.attempts, lastError: r.last_error, runAfter: r.run_after, updatedAt: r.updated_at }));
}

/** Puts a failed job back in the queue with fresh retries. */
export async function retryJob(ctx: ProvisioningContext, actor: Actor, coId: string, jobId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!isId(jobId)) throw new AppError(CORE_ERRORS.NOT_FOUND);
  const now = ctx.clock.now().toISOString();
  const result = await ctx.db
    .updateTable('provisioning_job')
    .set({ state: 'pending', attempts: 0, run_after: now, finished_at: null, updated_at: now })
    .where('id', '=', jobId)
    .where('co_id', '=', coId)
    .where('state', '=', 'failed')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new AppError(CORE_ERRORS.NOT_FOUND, { message: 'No such failed job' });
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
  await ctx.db.transaction().execute(async (trx) => {
    const co = await getCo(trx, coId);
    let targets = (await targetRowsOf(trx, coId)).filter((t) => t.mode !== 'disabled');
    if (opts.targetId) {
      targets = targets.filter((t) => t.id === opts.targetId);
      if (targets.length === 0) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    }
    let people: string[];
    if (opts.personId) {
      if (!(await findPerson(trx, coId, opts.personId))) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
      people = [opts.personId];
    } else {
      people = (await trx.selectFrom('co_person').select('id').where('co_id', '=', coId).execute()).map((r) => r.id);
    }
    for (const target of targets) for (const personId of people) await enqueueJob(trx, ctx.clock, target, personId, 'sync', 'reprovision', batchId);
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
  const rows = await ctx.db
    .selectFrom('provisioning_job')
    .select(['state'])
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    // A deferred job (waiting behind an earlier target that failed) has no attempts but an error.
    .select((eb) => eb.fn.sum<string | number>(eb.case().when(eb.or([eb('attempts', '>', 0), eb('last_error', 'is not', null)])).then(1).else(0).end()).as('retrying'))
    .where('co_id', '=', coId)
    .where('batch_id', '=', batchId)
    .groupBy('state')
    .execute();
  const count = (states: string[]) => rows.filter((r) => states.includes(r.state)).reduce((a, r) => a + Number(r.n), 0);
  const total = count(['pending', 'running', 'succeeded', 'failed', 'superseded']);
  // A batch with no jobs here is empty (a CO with no people or targets) unless its jobs are in
  // another CO: that one is not found, like every id of another CO.
  if (total === 0 && (!isId(batchId) || (await ctx.db.selectFrom('provisioning_job').select('id').where('batch_id', '=', batchId).limit(1).executeTakeFirst()))) {
    throw new AppError(CORE_ERRORS.PROVISIONING_BATCH_NOT_FOUND);
  }
  return { batchId, total, done: count(['succeeded', 'superseded']), failed: count(['failed']), pending: count(['pending', 'running']), retrying: rows.filter((r) => r.state === 'pending').reduce((a, r) => a + Number(r.retrying ?? 0), 0) };
}
