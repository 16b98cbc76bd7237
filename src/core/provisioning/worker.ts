import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Executor } from '../../db/database.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { recordHistory } from '../history/history.service.ts';
import { BackgroundJob } from '../jobs/background-job.ts';
import { keepsEntry } from '../people/person.service.ts';
import { buildProvisioningData, type ProvisioningData, type ProvisioningDataContributor } from './provisioning-data.ts';
import { inTransaction } from '../../db/transaction.ts';
import { lockPerson } from '../people/person.repository.ts';
import { claimJobsOfPerson, duePeople, releaseLeases, renewLeases, settleJobs, supersedeFailedJobs, workersHoldingJobs, type JobSettlement, type ProvisioningJob } from './provisioning-job.repository.ts';
import { keepTarget } from './provisioning-target.repository.ts';
import { findState, saveState } from './provisioning-state.repository.ts';
import type { Target } from './provisioner.ts';
import { PassSession } from './provisioner-session.ts';
import { provisionerOf, unsealedTargetsOf, type ProvisioningContext } from './target.service.ts';

export interface WorkerOptions {
  /** How often to look for due jobs when not nudged, in ms. Default 1000. */
  pollMs?: number;
  /**
   * How long a claimed job is ours without a heartbeat, in ms. While a pass runs, the worker renews
   * its leases every third of this; a worker that dies on another host loses its jobs to the
   * others when it runs out (on the same host, at once: see `deadWorkersOnThisHost`). Default 15 000.
   */
  leaseMs?: number;
  /** People processed at once. Default 8. */
  concurrency?: number;
  /** People taken up per pass at most (those due at its start, then those that come due while it runs). Default 200. */
  batchSize?: number;
}

/** How long a pass keeps taking up people whose jobs came due after it started, in ms. */
const PASS_REFILL_MS = 5_000;

/** The longest wait between two attempts of a failing job, in seconds. */
const MAX_BACKOFF_SECONDS = 3600;

function errorText(error: unknown): string {
  const e = error as { message?: string };
  return (e?.message ?? String(error)).slice(0, 1000);
}

type Outcome = { ok: true } | { ok: false; retryAt: string };

/**
 * Claims due jobs and runs them, a person at a time: that person's targets in their order
 * (deletions in reverse), so a token provisioner never runs before the entry it writes into exists.
 * Claiming is one UPDATE … WHERE state = 'pending', so two workers never run the same job. The
 * loop (poll, nudge, back-off) is a BackgroundJob; failures are logged with the CO, target, job
 * and person ids, never a setting.
 */
export class ProvisioningWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly job: BackgroundJob;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly batchSize: number;

  constructor(
    private readonly ctx: ProvisioningContext,
    private readonly contributors: readonly ProvisioningDataContributor[],
    options: WorkerOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 15_000;
    this.concurrency = options.concurrency ?? 8;
    this.batchSize = options.batchSize ?? 200;
    this.job = new BackgroundJob({ name: 'provisioning', logger: ctx.logger, pollMs: options.pollMs ?? 1000, pass: () => this.runOnce() });
  }

  /** Starts the loop; returns `stop`, which waits for the running pass. */
  start(): () => Promise<void> {
    return this.job.start();
  }

  /** Stops the loop; resolves once the running pass has finished. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Asks for a pass soon (after the change that wrote jobs has committed). */
  nudge(): void {
    this.job.nudge();
  }

  /** Runs until no job is due; returns how many jobs ran. For the CLI and tests. */
  drain(): Promise<number> {
    return this.job.drain();
  }

  /**
   * One pass: release lapsed leases, claim due people, run their jobs. Returns jobs run. Passes may
   * run side by side (in this worker or others): claims keep them apart.
   */
  async runOnce(): Promise<number> {
    const now = this.ctx.clock.now().toISOString();
    const taken = await releaseLeases(this.ctx.db, now, deadWorkersOnThisHost(await workersHoldingJobs(this.ctx.db)));
    if (taken > 0) this.ctx.logger.info({ jobs: taken }, 'provisioning jobs taken back from stopped workers');
    const due = await duePeople(this.ctx.db, now, this.batchSize);
    if (due.length === 0) return 0;
    const session = new PassSession();
    let count = 0;
    // The heartbeat: while this pass runs, its jobs stay ours; it stops with the pass (or the process).
    const heartbeat = setInterval(() => {
      const until = new Date(this.ctx.clock.now().getTime() + this.leaseMs).toISOString();
      renewLeases(this.ctx.db, this.id, until).catch((err: unknown) => this.ctx.logger.warn({ err }, 'provisioning lease renewal failed'));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    heartbeat.unref();
    try {
      // Lanes take the next due person as soon as they are free; when the list runs out, it is
      // read again (up to `batchSize` people and PASS_REFILL_MS per pass), so people whose jobs
      // arrived during the pass wait for a free lane, not for the slowest person of the batch.
      const queue = [...due];
      let taken = queue.length;
      const inFlight = new Set<string>();
      const passStarted = Date.now();
      let refilling: Promise<void> | undefined;
      const refill = () =>
        (refilling ??= (async () => {
          if (taken < this.batchSize && Date.now() - passStarted < PASS_REFILL_MS) {
            const more = await duePeople(this.ctx.db, this.ctx.clock.now().toISOString(), this.batchSize);
            const fresh = more.filter((p) => !inFlight.has(p.personId)).slice(0, this.batchSize - taken);
            queue.push(...fresh);
            taken += fresh.length;
          }
          refilling = undefined;
        })());
      const lanes = Array.from({ length: Math.min(this.concurrency, queue.length) }, async () => {
        for (;;) {
          if (queue.length === 0) await refill();
          const next = queue.shift();
          if (!next) return;
          inFlight.add(next.personId);
          try {
            // Not `count += await …`: that reads `count` before the await, and lanes would overwrite each other.
            const ran = await this.runPerson(next.coId, next.personId, session);
            count += ran;
          } finally {
            inFlight.delete(next.personId);
          }
        }
      });
      await Promise.all(lanes);
    } finally {
      clearInterval(heartbeat);
      await session.closeAll();
    }
    return count;
  }

  private settle(db: Executor, jobIds: string[], settlement: JobSettlement): Promise<boolean> {
    return settleJobs(db, jobIds, this.id, settlement);
  }

  private async runPerson(coId: string, personId: string, session: PassSession): Promise<number> {
    const now = this.ctx.clock.now();
    const claimed = await inTransaction(this.ctx.db, (trx) => claimJobsOfPerson(trx, coId, personId, this.id, new Date(now.getTime() + this.leaseMs).toISOString(), now.toISOString()));
    if (claimed.length === 0) return 0;
    const targets = await unsealedTargetsOf(this.ctx, this.ctx.db, coId);
    // Coalesce: one run per target; the others are superseded by it.
    const byTarget = new Map<string, ProvisioningJob[]>();
    for (const job of claimed) byTarget.set(job.targetId, [...(byTarget.get(job.targetId) ?? []), job]);
    const runs: Array<{ target: Target; job: ProvisioningJob; merged: ProvisioningJob[] }> = [];
    for (const [targetId, jobs] of byTarget) {
      const target = targets.find((t) => t.id === targetId);
      const job = jobs.find((j) => j.kind === 'delete') ?? jobs[0]!;
      if (target) runs.push({ target, job, merged: jobs.filter((j) => j !== job) });
    }
    const deleting = runs.some((r) => r.job.kind === 'delete');
    runs.sort((a, b) => (deleting ? b.target.ordinal - a.target.ordinal : a.target.ordinal - b.target.ordinal));
    const data = await buildProvisioningData(this.ctx.db, this.ctx.clock, this.contributors, coId, personId);

    let blockedBy: { target: Target; retryAt: string } | undefined;
    for (const { target, job, merged } of runs) {
      await this.settle(this.ctx.db, merged.map((j) => j.id), { state: 'superseded', finishedAt: this.ctx.clock.now().toISOString() });
      if (blockedBy && !(await this.onlyWithdraws(target, job, data, personId))) {
        await this.defer(job, blockedBy.retryAt, `waiting for target "${blockedBy.target.description}"`);
        continue;
      }
      const outcome = await this.runJob(target, targets, job, data, personId, session);
      if (!outcome.ok) blockedBy = { target, retryAt: outcome.retryAt };
    }
    return claimed.length;
  }

  /** Whether the target's provisioner says this run would only take access away (see Provisioner.onlyWithdraws). */
  private async onlyWithdraws(target: Target, job: ProvisioningJob, data: ProvisioningData | undefined, personId: string): Promise<boolean> {
    const provisioner = provisionerOf(this.ctx, target.provisionerType);
    if (!provisioner?.onlyWithdraws || target.mode === 'disabled') return false;
    const previous = await findState(this.ctx.db, target.id, personId);
    return provisioner.onlyWithdraws({ target, intent: this.intentFor(target, job, data), data, previous });
  }

  private intentFor(target: Target, job: ProvisioningJob, data: ProvisioningData | undefined): 'present' | 'absent' {
    if (job.kind === 'delete' || !data) return 'absent';
    if (!keepsEntry(data.person.status)) return 'absent';
    if (target.provisionGroupId && !data.groups.some((g) => g.id === target.provisionGroupId)) return 'absent';
    return 'present';
  }

  private async runJob(target: Target, targets: Target[], job: ProvisioningJob, data: ProvisioningData | undefined, personId: string, session: PassSession): Promise<Outcome> {
    const db = this.ctx.db;
    const provisioner = provisionerOf(this.ctx, target.provisionerType);
    const started = this.ctx.clock.now().toISOString();
    if (target.mode === 'disabled') {
      await this.settle(db, [job.id], { state: 'superseded', finishedAt: started, lastError: 'target disabled' });
      return { ok: true };
    }
    try {
      if (!provisioner) throw new Error(`no provisioner of type "${target.provisionerType}" is enabled`);
      const previous = await findState(db, target.id, personId);
      const result = await provisioner.provision({
        target,
        targets,
        intent: this.intentFor(target, job, data),
        data,
        personId,
        previous,
        stateOf: (targetId) => findState(db, targetId, personId),
        session,
      });
      const now = this.ctx.clock.now().toISOString();
      await inTransaction(db, async (trx) => {
        // Lock order (src/db/transaction.ts): target, then person, then job. A target deleted
        // meanwhile took its jobs with it; a person deleted meanwhile is recorded without the link.
        if (!(await keepTarget(trx, target.id))) return;
        const personExists = await lockPerson(trx, target.coId, personId, 'keep');
        if (!(await this.settle(trx, [job.id], { state: 'succeeded', attempts: job.attempts + 1, finishedAt: now, updatedAt: now, lastError: null }))) return;
        // The target holds what the registry says now, so earlier failures of this (target, person),
        // and retries still waiting, are settled too: they would show as failed or pending forever.
        await supersedeFailedJobs(trx, target.id, personId, now);
        await saveState(trx, { coId: target.coId, targetId: target.id, personId }, { status: result.status, targetKey: result.targetKey, detail: result.detail ?? {}, error: null, success: now }, this.ctx.clock.now().toISOString());
        const changed = !previous || previous.status !== result.status || previous.targetKey !== result.targetKey;
        if (changed || job.batchId || job.attempts > 0) {
          await recordHistory(trx, this.ctx.clock, SYSTEM_ACTOR, {
            coId: target.coId,
            personId: personExists ? personId : null,
            action: 'PROVISIONED',
            comment: `${result.status === 'removed' ? 'Removed from' : 'Provisioned to'} target "${target.description}"${result.targetKey ? ` (${result.targetKey})` : ''}`,
          });
        }
      });
      this.ctx.logger.debug({ coId: target.coId, targetId: target.id, jobId: job.id, personId, status: result.status }, 'provisioning job succeeded');
      return { ok: true };
    } catch (error) {
      return { ok: false, retryAt: await this.fail(target, job, personId, errorText(error)) };
    }
  }

  /** A failed attempt: retried with exponential back-off until the target's maximum, then kept as failed. */
  private async fail(target: Target, job: ProvisioningJob, personId: string, message: string): Promise<string> {
    const now = this.ctx.clock.now();
    const attempts = job.attempts + 1;
    const givingUp = attempts > target.maxRetries;
    const delay = Math.min(MAX_BACKOFF_SECONDS, target.retryIntervalSeconds * 2 ** (attempts - 1));
    const retryAt = new Date(now.getTime() + delay * 1000).toISOString();
    await inTransaction(this.ctx.db, async (trx) => {
      if (!(await keepTarget(trx, target.id))) return;
      const personExists = await lockPerson(trx, target.coId, personId, 'keep');
      const ours = await this.settle(trx, [job.id], {
        state: givingUp ? 'failed' : 'pending',
        attempts,
        lastError: message,
        runAfter: givingUp ? job.runAfter : retryAt,
        updatedAt: now.toISOString(),
        finishedAt: givingUp ? now.toISOString() : null,
      });
      if (!ours) return;
      await saveState(trx, { coId: target.coId, targetId: target.id, personId }, { status: 'failed', error: message }, this.ctx.clock.now().toISOString());
      await recordHistory(trx, this.ctx.clock, SYSTEM_ACTOR, {
        coId: target.coId,
        personId: personExists ? personId : null,
        action: 'PROVISIONING_FAILED',
        comment: `Provisioning to target "${target.description}" failed (attempt ${attempts}): ${message}${givingUp ? '; no more retries, retry it by hand' : `; retrying at ${retryAt}`}`,
      });
    });
    this.ctx.logger.warn(
      { coId: target.coId, targetId: target.id, jobId: job.id, personId, attempts, error: message, ...(givingUp ? { givingUp } : { retryAt }) },
      'provisioning job failed',
    );
    return retryAt;
  }

  /** Puts a job back without counting an attempt, to run with the earlier target that failed. */
  private async defer(job: ProvisioningJob, runAfter: string, why: string): Promise<void> {
    const now = this.ctx.clock.now();
    await this.settle(this.ctx.db, [job.id], { state: 'pending', lastError: why, runAfter, updatedAt: now.toISOString() });
  }
}

/**
 * The workers among `workerIds` that ran on this host in a process that is gone (worker ids are
 * `host:pid:random`). Their jobs can be taken back at once instead of when their lease runs out:
 * after a crash and restart, or when a `tessera worker` next to this one was killed. A pid the
 * system gave again to another process hides a dead worker until its lease runs out; no live one
 * is ever taken for dead.
 */
export function deadWorkersOnThisHost(workerIds: readonly string[]): string[] {
  const host = hostname();
  return workerIds.filter((id) => {
    const [idHost, pidText] = id.split(':');
    const pid = Number(pidText);
    if (idHost !== host || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as { code?: string }).code === 'ESRCH';
    }
  });
}
