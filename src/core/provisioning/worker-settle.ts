// Settling a chunk: the outcomes of every job of the chunk written in one transaction, with one
// statement per kind of outcome where they share their values (succeeded, superseded), and nothing
// written for a result that changed nothing beyond the state's timestamps.
import type { Executor } from '../../db/database.ts';
import { inTransaction } from '../../db/transaction.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { recordHistoryMany, type HistoryInput } from '../history/history.service.ts';
import { keepPeople, saveSucceededStates, settleJobsAs, supersedeFailedJobsOfPeople, touchStates, type StateRow, type StoredState } from './job-batch.repository.ts';
import { settleJobs } from './provisioning-job.repository.ts';
import { keepTarget } from './provisioning-target.repository.ts';
import type { ProvisionResult } from './provisioner.ts';
import { saveState } from './provisioning-state.repository.ts';
import type { ChunkEnv, JobOutcome, SettleWrite } from './worker-chunk.ts';

/** JSON with its keys sorted, so two details compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
}

/** Whether a successful run leaves the recorded state as it was (no error before, same status, key and detail). */
export function unchanged(previous: StoredState | undefined, result: ProvisionResult): boolean {
  if (previous === undefined || previous.lastError !== null || previous.status !== result.status || previous.targetKey !== result.targetKey) return false;
  // Details are mostly written in one key order: the same text is the same detail, without sorting.
  const detail = result.detail ?? {};
  return JSON.stringify(previous.detail) === JSON.stringify(detail) || canonical(previous.detail) === canonical(detail);
}

type Succeeded = Extract<JobOutcome, { kind: 'succeeded' }>;
type Failed = Extract<JobOutcome, { kind: 'failed' }>;

/**
 * Writes the outcomes of one chunk (jobs of one CO) in one transaction, in the lock order of
 * src/db/transaction.ts: the targets (kept from deletion), then the people, then the jobs. Only
 * jobs still the worker's are settled, and only their results recorded: a job whose lease ran out
 * and that another worker took over keeps that worker's outcome. `writes` (ProvisionerChunk.atSettle)
 * run before the jobs are settled, whoever settles them: they record what the runs did. Returns the failures recorded (to log).
 */
export async function settleChunk(env: ChunkEnv, coId: string, outcomes: readonly JobOutcome[], writes: readonly SettleWrite[] = []): Promise<Failed[]> {
  if (outcomes.length === 0 && writes.length === 0) return [];
  const { ctx, workerId } = env;
  return inTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now().toISOString();
    const targetIds = [...new Set(outcomes.flatMap((o) => (o.kind === 'succeeded' || o.kind === 'failed' ? [o.target.id] : [])))].sort();
    const kept = new Set<string>();
    for (const id of targetIds) if (await keepTarget(trx, id)) kept.add(id);
    const personIds = [...new Set(outcomes.flatMap((o) => (o.kind === 'succeeded' || o.kind === 'failed' ? [o.job.personId] : [])))].sort();
    const people = await keepPeople(trx, coId, personIds);
    // What the provisioners recorded of the chunk's runs (e.g. the entries an LDAP target created):
    // the people's rows, after the people in the lock order, before the jobs.
    for (const write of writes) await write(trx);

    for (const lastError of [null, 'target disabled']) {
      const ids = outcomes.flatMap((o) => (o.kind === 'superseded' && o.lastError === lastError ? o.jobIds : []));
      await settleJobsAs(trx, ids, workerId, 'superseded', now, lastError);
    }
    for (const o of outcomes) {
      if (o.kind !== 'deferred') continue;
      await settleJobs(trx, [o.job.id], workerId, { state: 'pending', lastError: o.why, runAfter: o.runAfter, updatedAt: now, heldSince: o.held ? now : null });
    }
    await settleSucceeded(env, trx, coId, outcomes.filter((o): o is Succeeded => o.kind === 'succeeded' && kept.has(o.target.id)), people, now);
    const failed: Failed[] = [];
    for (const o of outcomes) {
      if (o.kind === 'failed' && kept.has(o.target.id) && (await settleFailed(env, trx, o, people.has(o.job.personId), now))) failed.push(o);
    }
    return failed;
  });
}

async function settleSucceeded(env: ChunkEnv, trx: Executor, coId: string, succeeded: Succeeded[], people: ReadonlySet<string>, now: string): Promise<void> {
  if (succeeded.length === 0) return;
  const ours = await settleJobsAs(
    trx,
    succeeded.map((o) => o.job.id),
    env.workerId,
    'succeeded',
    now,
  );
  const settled = succeeded.filter((o) => ours.has(o.job.id));
  const changed: StateRow[] = [];
  const same = new Map<string, string[]>();
  const history: HistoryInput[] = [];
  const byTarget = new Map<string, string[]>();
  for (const { job, target, previous, result } of settled) {
    byTarget.set(target.id, [...(byTarget.get(target.id) ?? []), job.personId]);
    if (unchanged(previous, result)) same.set(target.id, [...(same.get(target.id) ?? []), job.personId]);
    else changed.push({ coId, targetId: target.id, personId: job.personId, status: result.status, targetKey: result.targetKey, detail: result.detail ?? {} });
    // History tells what changed: a new status or key, or a success after failures.
    const moved = !previous || previous.status !== result.status || previous.targetKey !== result.targetKey;
    if (moved || job.attempts > 0 || (previous?.lastError ?? null) !== null) {
      history.push({
        coId,
        personId: people.has(job.personId) ? job.personId : null,
        action: 'PROVISIONED',
        comment: `${result.status === 'removed' ? 'Removed from' : 'Provisioned to'} target "${target.description}"${result.targetKey ? ` (${result.targetKey})` : ''}`,
      });
    }
  }
  // The target holds what the registry says now, so earlier failures of these (target, person)
  // pairs, and retries still waiting, are settled too: they would show as failed or pending forever.
  for (const [targetId, ids] of byTarget) await supersedeFailedJobsOfPeople(trx, targetId, ids, now);
  await saveSucceededStates(trx, changed, now);
  for (const [targetId, ids] of same) await touchStates(trx, targetId, ids, now);
  await recordHistoryMany(trx, env.ctx.clock, SYSTEM_ACTOR, history);
}

/** A failed attempt: retried with back-off until the target's maximum, then kept as failed; held (no retry counted) when the target was unreachable. */
async function settleFailed(env: ChunkEnv, trx: Executor, o: Failed, personExists: boolean, now: string): Promise<boolean> {
  const { job, target, message, unreachable, givingUp, retryAt } = o;
  const attempts = job.attempts + 1;
  const ours = await settleJobs(trx, [job.id], env.workerId, {
    state: givingUp ? 'failed' : 'pending',
    attempts,
    lastError: message,
    runAfter: givingUp ? job.runAfter : retryAt,
    updatedAt: now,
    finishedAt: givingUp ? now : null,
    heldSince: unreachable ? now : null,
    heldAttempts: job.heldAttempts + (unreachable ? 1 : 0),
  });
  if (!ours) return false;
  await saveState(trx, { coId: target.coId, targetId: target.id, personId: job.personId }, { status: 'failed', error: message }, now);
  await recordHistoryMany(trx, env.ctx.clock, SYSTEM_ACTOR, [
    {
      coId: target.coId,
      personId: personExists ? job.personId : null,
      action: 'PROVISIONING_FAILED',
      comment: `Provisioning to target "${target.description}" failed (attempt ${attempts}): ${message}${givingUp ? '; no more retries, retry it by hand' : unreachable ? `; held until the target answers again (retrying at ${retryAt} at the latest)` : `; retrying at ${retryAt}`}`,
    },
  ]);
  return true;
}
