// One chunk of the worker's pass: the due jobs of up to `chunkSize` people of one CO, claimed in
// one transaction, their provisioning data and states read with set-based queries, the provisioners
// run person by person (each person's targets in order), and every outcome settled together in one
// transaction (worker-settle.ts). A crash before that transaction leaves the jobs running under a
// lease that is taken back (at once on this host): they run again, and provisioners reconcile, so
// running twice changes nothing.
import type { Executor } from '../../db/database.ts';
import type { Logger } from '../logging/logger.ts';
import { inTransaction } from '../../db/transaction.ts';
import { keepsEntry } from '../people/person.service.ts';
import { buildProvisioningDataOfPeople, type ProvisioningData, type ProvisioningDataContributor } from './provisioning-data.ts';
import { claimJobsOfPeople, pairKey, statesOfPeople, type StoredState } from './job-batch.repository.ts';
import type { ProvisioningJob } from './provisioning-job.repository.ts';
import type { ProvisionResult, ProvisionerChunk, ProvisionerSession, Target } from './provisioner.ts';
import { isTargetUnreachable } from './target-unreachable.ts';
import { provisionerOf, unsealedTargetsOf, type ProvisioningContext } from './target.service.ts';

/** The longest wait between two attempts of a failing job, in seconds. */
export const MAX_BACKOFF_SECONDS = 3600;

/** What one job of a chunk came to, for worker-settle.ts. */
export type JobOutcome =
  | { kind: 'succeeded'; job: ProvisioningJob; target: Target; previous: StoredState | undefined; result: ProvisionResult }
  | { kind: 'failed'; job: ProvisioningJob; target: Target; message: string; unreachable: boolean; givingUp: boolean; retryAt: string }
  | { kind: 'deferred'; job: ProvisioningJob; runAfter: string; why: string; held: boolean }
  | { kind: 'superseded'; jobIds: string[]; lastError: string | null };

/** What a chunk needs from its worker. */
export interface ChunkEnv {
  ctx: ProvisioningContext;
  contributors: readonly ProvisioningDataContributor[];
  workerId: string;
  leaseMs: number;
  /** People of the chunk whose provisioners run at once. */
  concurrency: number;
  logger: Logger;
}

function errorText(error: unknown): string {
  const e = error as { message?: string };
  return (e?.message ?? String(error)).slice(0, 1000);
}

/** Claims the due jobs of these people of one CO (one transaction). */
export async function claimChunk(env: ChunkEnv, coId: string, personIds: readonly string[]): Promise<ProvisioningJob[]> {
  const now = env.ctx.clock.now();
  const until = new Date(now.getTime() + env.leaseMs).toISOString();
  return inTransaction(env.ctx.db, (trx) => claimJobsOfPeople(trx, coId, personIds, env.workerId, until, now.toISOString()));
}

/** What the run of a chunk reads once for all its people. */
interface ChunkReads {
  targets: Target[];
  data: Map<string, ProvisioningData>;
  states: Map<string, StoredState>;
  chunk: ProvisionerChunk;
}

/** Writes provisioners left to the chunk's settle transaction (ProvisionerChunk.atSettle). */
export type SettleWrite = (db: Executor) => Promise<void>;

/** What the chunk's provisioner runs share (see ProvisionerChunk), with the writes left for its settle. */
function chunkOf(personIds: readonly string[], data: ReadonlyMap<string, ProvisioningData>, writes: SettleWrite[]): ProvisionerChunk {
  const kept = new Map<string, Promise<unknown>>();
  return {
    personIds,
    atSettle: (write) => void writes.push(write),
    dataOf: (personId) => data.get(personId),
    once<T>(key: string, load: () => Promise<T>): Promise<T> {
      let value = kept.get(key);
      if (!value) {
        value = load();
        value.catch(() => kept.delete(key));
        kept.set(key, value);
      }
      return value as Promise<T>;
    },
  };
}

/**
 * Runs the claimed jobs of one CO's people (read once: targets, provisioning data, states) and
 * returns their outcomes, to be settled together with the writes the provisioners left for the settle. People run side by side, `env.concurrency` at
 * once; each person's targets run in their order (deletions in reverse), as in a single run.
 */
export async function runChunk(env: ChunkEnv, coId: string, claimed: readonly ProvisioningJob[], session: ProvisionerSession): Promise<{ outcomes: JobOutcome[]; writes: SettleWrite[] }> {
  const byPerson = new Map<string, ProvisioningJob[]>();
  for (const job of claimed) byPerson.set(job.personId, [...(byPerson.get(job.personId) ?? []), job]);
  const people = [...byPerson.keys()];
  const [targets, data, states] = await Promise.all([
    unsealedTargetsOf(env.ctx, env.ctx.db, coId),
    buildProvisioningDataOfPeople(env.ctx.db, env.ctx.clock, env.contributors, coId, people),
    statesOfPeople(env.ctx.db, coId, people),
  ]);
  const writes: SettleWrite[] = [];
  const reads: ChunkReads = { targets, data, states, chunk: chunkOf(people, data, writes) };
  const outcomes: JobOutcome[] = [];
  const queue = [...people];
  const lanes = Array.from({ length: Math.min(env.concurrency, queue.length) }, async () => {
    for (let personId = queue.shift(); personId !== undefined; personId = queue.shift()) {
      outcomes.push(...(await runPerson(env, reads, personId, byPerson.get(personId)!, session)));
    }
  });
  await Promise.all(lanes);
  return { outcomes, writes };
}

function intentFor(target: Target, job: ProvisioningJob, data: ProvisioningData | undefined): 'present' | 'absent' {
  if (job.kind === 'delete' || !data) return 'absent';
  if (!keepsEntry(data.person.status)) return 'absent';
  if (target.provisionGroupId && !data.groups.some((g) => g.id === target.provisionGroupId)) return 'absent';
  return 'present';
}

/** One person's jobs: coalesced per target (one run, the others superseded), in target order. */
async function runPerson(env: ChunkEnv, reads: ChunkReads, personId: string, claimed: ProvisioningJob[], session: ProvisionerSession): Promise<JobOutcome[]> {
  const byTarget = new Map<string, ProvisioningJob[]>();
  for (const job of claimed) byTarget.set(job.targetId, [...(byTarget.get(job.targetId) ?? []), job]);
  const runs: Array<{ target: Target; job: ProvisioningJob; merged: ProvisioningJob[] }> = [];
  const outcomes: JobOutcome[] = [];
  for (const [targetId, jobs] of byTarget) {
    const target = reads.targets.find((t) => t.id === targetId);
    const job = jobs.find((j) => j.kind === 'delete') ?? jobs[0]!;
    // A target deleted meanwhile took its jobs with it; they are left to the cascade.
    if (target) runs.push({ target, job, merged: jobs.filter((j) => j !== job) });
  }
  const deleting = runs.some((r) => r.job.kind === 'delete');
  runs.sort((a, b) => (deleting ? b.target.ordinal - a.target.ordinal : a.target.ordinal - b.target.ordinal));
  const data = reads.data.get(personId);
  let blockedBy: { target: Target; retryAt: string; held: boolean } | undefined;
  for (const { target, job, merged } of runs) {
    if (merged.length > 0) outcomes.push({ kind: 'superseded', jobIds: merged.map((j) => j.id), lastError: null });
    if (blockedBy && !onlyWithdraws(env, reads, target, job, data, personId)) {
      outcomes.push({ kind: 'deferred', job, runAfter: blockedBy.retryAt, why: `waiting for target "${blockedBy.target.description}"`, held: blockedBy.held });
      continue;
    }
    const outcome = await runJob(env, reads, target, job, data, personId, session);
    outcomes.push(outcome);
    if (outcome.kind === 'failed') blockedBy = { target, retryAt: outcome.retryAt, held: outcome.unreachable };
  }
  return outcomes;
}

/** Whether the target's provisioner says this run would only take access away (see Provisioner.onlyWithdraws). */
function onlyWithdraws(env: ChunkEnv, reads: ChunkReads, target: Target, job: ProvisioningJob, data: ProvisioningData | undefined, personId: string): boolean {
  const provisioner = provisionerOf(env.ctx, target.provisionerType);
  if (!provisioner?.onlyWithdraws || target.mode === 'disabled') return false;
  return provisioner.onlyWithdraws({ target, intent: intentFor(target, job, data), data, previous: reads.states.get(pairKey(target.id, personId)) });
}

async function runJob(env: ChunkEnv, reads: ChunkReads, target: Target, job: ProvisioningJob, data: ProvisioningData | undefined, personId: string, session: ProvisionerSession): Promise<JobOutcome> {
  if (target.mode === 'disabled') return { kind: 'superseded', jobIds: [job.id], lastError: 'target disabled' };
  const key = pairKey(target.id, personId);
  const previous = reads.states.get(key);
  try {
    const provisioner = provisionerOf(env.ctx, target.provisionerType);
    if (!provisioner) throw new Error(`no provisioner of type "${target.provisionerType}" is enabled`);
    const result = await provisioner.provision({
      target,
      targets: reads.targets,
      intent: intentFor(target, job, data),
      data,
      personId,
      previous,
      // What the earlier targets of this person recorded, this chunk's results included.
      stateOf: async (targetId) => reads.states.get(pairKey(targetId, personId)),
      session,
      chunk: reads.chunk,
    });
    reads.states.set(key, { status: result.status, targetKey: result.targetKey, detail: result.detail ?? {}, lastError: null });
    return { kind: 'succeeded', job, target, previous, result };
  } catch (error) {
    const message = errorText(error);
    const unreachable = isTargetUnreachable(error);
    const attempts = job.attempts + 1;
    // Attempts that met an unreachable target are shown, but never count against the maximum.
    const counted = attempts - job.heldAttempts - (unreachable ? 1 : 0);
    const givingUp = !unreachable && counted > target.maxRetries;
    const delay = Math.min(MAX_BACKOFF_SECONDS, target.retryIntervalSeconds * 2 ** (attempts - 1));
    const retryAt = new Date(env.ctx.clock.now().getTime() + delay * 1000).toISOString();
    if (previous) reads.states.set(key, { ...previous, status: 'failed', lastError: message });
    return { kind: 'failed', job, target, message, unreachable, givingUp, retryAt };
  }
}
