import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Updateable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { recordHistory } from '../history/history.service.ts';
import { keepsEntry } from '../people/person.service.ts';
import { buildProvisioningData, type ProvisioningData, type ProvisioningDataContributor } from './provisioning-data.ts';
import type { PreviousState, ProvisionerSession, Target } from './provisioner.ts';
import type { ProvisioningJobTable } from './provisioning.table.ts';
import { provisionerOf, targetRowsOf, toTarget, type ProvisioningContext } from './target.service.ts';

export interface WorkerOptions {
  /** How often to look for due jobs when not nudged. */
  pollMs?: number;
  /** How long a claimed job is ours; a worker that dies releases its jobs when this runs out. */
  leaseMs?: number;
  /** People processed at once. */
  concurrency?: number;
  /** People claimed per pass. */
  batchSize?: number;
}

const MAX_BACKOFF_SECONDS = 3600;

class Session implements ProvisionerSession {
  private readonly open = new Map<string, { value: Promise<unknown>; close: (v: unknown) => Promise<void> }>();
  get<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T> {
    let entry = this.open.get(key);
    if (!entry) {
      const value = open();
      // A failed open is not kept: the next person of the pass tries again.
      value.catch(() => this.open.delete(key));
      entry = { value, close: close as (v: unknown) => Promise<void> };
      this.open.set(key, entry);
    }
    return entry.value as Promise<T>;
  }
  async closeAll(): Promise<void> {
    for (const { value, close } of this.open.values()) {
      try {
        await close(await value);
      } catch {
        // The connection is gone either way.
      }
    }
    this.open.clear();
  }
}

function parseDetail(detail: string): Record<string, unknown> {
  try {
    return JSON.parse(detail) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function stateOf(db: Executor, targetId: string, personId: string): Promise<PreviousState | undefined> {
  const row = await db.selectFrom('provisioning_state').selectAll().where('target_id', '=', targetId).where('person_id', '=', personId).executeTakeFirst();
  return row ? { status: row.status, targetKey: row.target_key, detail: parseDetail(row.detail) } : undefined;
}

function errorText(error: unknown): string {
  const e = error as { message?: string; code?: unknown };
  return (e?.message ?? String(error)).slice(0, 1000);
}

/**
 * Claims due jobs and runs them, a person at a time: that person's targets in their order
 * (deletions in reverse), so a token provisioner never runs before the entry it writes into exists.
 * Claiming is one UPDATE … WHERE state = 'pending', so two workers never run the same job.
 */
export class ProvisioningWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private nudged = false;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly batchSize: number;

  constructor(
    private readonly ctx: ProvisioningContext,
    private readonly contributors: readonly ProvisioningDataContributor[],
    options: WorkerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.concurrency = options.concurrency ?? 8;
    this.batchSize = options.batchSize ?? 200;
  }

  start(): () => Promise<void> {
    this.stopped = false;
    this.schedule(0);
    return async () => {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      await this.running;
    };
  }

  /** Asks for a pass soon (after the change that wrote jobs has committed). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.nudged = true;
      return;
    }
    this.schedule(20);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), ms);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    if (this.stopped || this.running) return;
    let processed = 0;
    try {
      this.running = this.runOnce();
      processed = await this.running;
    } catch (error) {
      console.error(JSON.stringify({ level: 50, msg: 'provisioning worker pass failed', err: errorText(error) }));
    } finally {
      this.running = undefined;
    }
    if (this.stopped) return;
    const again = processed > 0 || this.nudged;
    this.nudged = false;
    this.schedule(again ? 0 : this.pollMs);
  }

  /** Runs until no job is due; returns how many jobs ran. For the CLI and tests. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      if (n === 0) return total;
      total += n;
    }
  }

  /** One pass: release lapsed leases, claim due people, run their jobs. Returns jobs run. */
  async runOnce(): Promise<number> {
    const db = this.ctx.db;
    const now = this.ctx.clock.now();
    await db
      .updateTable('provisioning_job')
      .set({ state: 'pending', locked_by: null, locked_until: null })
      .where('state', '=', 'running')
      .where('locked_until', '<', now.toISOString())
      .execute();
    const due = await db
      .selectFrom('provisioning_job')
      .select(['co_id', 'person_id'])
      .select((eb) => eb.fn.min('run_after').as('first'))
      .where('state', '=', 'pending')
      .where('run_after', '<=', now.toISOString())
      .groupBy(['co_id', 'person_id'])
      .orderBy('first')
      .limit(this.batchSize)
      .execute();
    if (due.length === 0) return 0;
    const session = new Session();
    let count = 0;
    try {
      const queue = [...due];
      const lanes = Array.from({ length: Math.min(this.concurrency, queue.length) }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          // Not `count += await …`: that reads `count` before the await, and lanes would overwrite each other.
          const ran = await this.runPerson(next.co_id, next.person_id, session);
          count += ran;
        }
      });
      await Promise.all(lanes);
    } finally {
      await session.closeAll();
    }
    return count;
  }

  private async claim(coId: string, personId: string): Promise<ProvisioningJobTable[]> {
    const now = this.ctx.clock.now();
    return this.ctx.db
      .updateTable('provisioning_job')
      .set({ state: 'running', locked_by: this.id, locked_until: new Date(now.getTime() + this.leaseMs).toISOString(), updated_at: now.toISOString() })
      .where('co_id', '=', coId)
      .where('person_id', '=', personId)
      .where('state', '=', 'pending')
      .where('run_after', '<=', now.toISOString())
      .returningAll()
      .execute();
  }

  /**
   * Settles a claimed job, but only while it is still ours: a job whose lease ran out may have been
   * taken over by another worker, whose outcome must stand. Returns whether the job was ours.
   */
  private async settle(db: Executor, jobIds: string[], values: Updateable<ProvisioningJobTable>): Promise<boolean> {
    if (jobIds.length === 0) return true;
    const result = await db
      .updateTable('provisioning_job')
      .set({ ...values, locked_by: null, locked_until: null })
      .where('id', 'in', jobIds)
      .where('state', '=', 'running')
      .where('locked_by', '=', this.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  private async runPerson(coId: string, personId: string, session: Session): Promise<number> {
    const claimed = await this.claim(coId, personId);
    if (claimed.length === 0) return 0;
    const targets = (await targetRowsOf(this.ctx.db, coId)).map((r) => toTarget(this.ctx, r));
    // Coalesce: one run per target; the others are superseded by it.
    const byTarget = new Map<string, ProvisioningJobTable[]>();
    for (const job of claimed) byTarget.set(job.target_id, [...(byTarget.get(job.target_id) ?? []), job]);
    const runs: Array<{ target: Target; job: ProvisioningJobTable; merged: ProvisioningJobTable[] }> = [];
    for (const [targetId, jobs] of byTarget) {
      const target = targets.find((t) => t.id === targetId);
      const job = jobs.find((j) => j.kind === 'delete') ?? jobs[0]!;
      if (target) runs.push({ target, job, merged: jobs.filter((j) => j !== job) });
    }
    const deleting = runs.some((r) => r.job.kind === 'delete');
    runs.sort((a, b) => (deleting ? b.target.ordinal - a.target.ordinal : a.target.ordinal - b.target.ordinal));
    const data = await buildProvisioningData(this.ctx.db, this.ctx, this.contributors, coId, personId);

    let blockedBy: { target: Target; retryAt: string } | undefined;
    for (const { target, job, merged } of runs) {
      await this.settle(this.ctx.db, merged.map((j) => j.id), { state: 'superseded', finished_at: this.ctx.clock.now().toISOString() });
      if (blockedBy) {
        await this.defer(job, blockedBy.retryAt, `waiting for target "${blockedBy.target.description}"`);
        continue;
      }
      const outcome = await this.runJob(target, targets, job, data, personId, session);
      if (!outcome.ok) blockedBy = { target, retryAt: outcome.retryAt };
    }
    return claimed.length;
  }

  private intentFor(target: Target, job: ProvisioningJobTable, data: ProvisioningData | undefined): 'present' | 'absent' {
    if (job.kind === 'delete' || !data) return 'absent';
    if (!keepsEntry(data.person.status)) return 'absent';
    if (target.provisionGroupId && !data.groups.some((g) => g.id === target.provisionGroupId)) return 'absent';
    return 'present';
  }

  private async runJob(target: Target, targets: Target[], job: ProvisioningJobTable, data: ProvisioningData | undefined, personId: string, session: Session): Promise<{ ok: true } | { ok: false; retryAt: string }> {
    const db = this.ctx.db;
    const provisioner = provisionerOf(this.ctx, target.plugin);
    const started = this.ctx.clock.now().toISOString();
    if (target.mode === 'disabled') {
      await this.settle(db, [job.id], { state: 'superseded', finished_at: started, last_error: 'target disabled' });
      return { ok: true };
    }
    try {
      if (!provisioner) throw new Error(`no provisioner of type "${target.plugin}" is enabled`);
      const previous = await stateOf(db, target.id, personId);
      const result = await provisioner.provision({
        target,
        targets,
        intent: this.intentFor(target, job, data),
        data,
        personId,
        previous,
        stateOf: (targetId) => stateOf(db, targetId, personId),
        session,
      });
      const now = this.ctx.clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        if (!(await this.settle(trx, [job.id], { state: 'succeeded', attempts: job.attempts + 1, finished_at: now, updated_at: now, last_error: null }))) return;
        // The target holds what the registry says now, so earlier failures of this (target, person)
        // that nobody retried are settled too: they would otherwise show as failed forever.
        await trx
          .updateTable('provisioning_job')
          .set({ state: 'superseded', finished_at: now, updated_at: now })
          .where('target_id', '=', target.id)
          .where('person_id', '=', personId)
          .where('state', '=', 'failed')
          .execute();
        await this.saveState(trx, target, personId, { status: result.status, targetKey: result.targetKey, detail: result.detail ?? {}, error: null, success: now });
        const changed = !previous || previous.status !== result.status || previous.targetKey !== result.targetKey;
        if (changed || job.batch_id || job.attempts > 0) {
          await recordHistory(trx, this.ctx.clock, SYSTEM_ACTOR, {
            coId: target.coId,
            personId: data ? personId : null,
            action: 'PROVISIONED',
            comment: `${result.status === 'removed' ? 'Removed from' : 'Provisioned to'} target "${target.description}"${result.targetKey ? ` (${result.targetKey})` : ''}`,
          });
        }
      });
      return { ok: true };
    } catch (error) {
      return { ok: false, retryAt: await this.fail(target, job, personId, data !== undefined, errorText(error)) };
    }
  }

  private async saveState(db: Executor, target: Target, personId: string, s: { status: 'provisioned' | 'removed' | 'failed'; targetKey?: string | null; detail?: Record<string, unknown>; error: string | null; success?: string }): Promise<void> {
    const now = this.ctx.clock.now().toISOString();
    const existing = await db.selectFrom('provisioning_state').select('id').where('target_id', '=', target.id).where('person_id', '=', personId).executeTakeFirst();
    if (existing) {
      await db
        .updateTable('provisioning_state')
        .set({
          status: s.status,
          ...(s.targetKey !== undefined ? { target_key: s.targetKey } : {}),
          ...(s.detail !== undefined ? { detail: JSON.stringify(s.detail) } : {}),
          last_error: s.error,
          last_attempt_at: now,
          ...(s.success ? { last_success_at: s.success } : {}),
        })
        .where('id', '=', existing.id)
        .execute();
    } else {
      await db
        .insertInto('provisioning_state')
        .values({ id: newId(), co_id: target.coId, target_id: target.id, person_id: personId, status: s.status, target_key: s.targetKey ?? null, detail: JSON.stringify(s.detail ?? {}), last_error: s.error, last_attempt_at: now, last_success_at: s.success ?? null })
        .execute();
    }
  }

  /** A failed attempt: retried with exponential back-off until the target's maximum, then kept as failed. */
  private async fail(target: Target, job: ProvisioningJobTable, personId: string, personExists: boolean, message: string): Promise<string> {
    const now = this.ctx.clock.now();
    const attempts = job.attempts + 1;
    const givingUp = attempts > target.maxRetries;
    const delay = Math.min(MAX_BACKOFF_SECONDS, target.retryIntervalSeconds * 2 ** (attempts - 1));
    const retryAt = new Date(now.getTime() + delay * 1000).toISOString();
    await this.ctx.db.transaction().execute(async (trx) => {
      const ours = await this.settle(trx, [job.id], {
        state: givingUp ? 'failed' : 'pending',
        attempts,
        last_error: message,
        run_after: givingUp ? job.run_after : retryAt,
        updated_at: now.toISOString(),
        finished_at: givingUp ? now.toISOString() : null,
      });
      if (!ours) return;
      await this.saveState(trx, target, personId, { status: 'failed', error: message });
      await recordHistory(trx, this.ctx.clock, SYSTEM_ACTOR, {
        coId: target.coId,
        personId: personExists ? personId : null,
        action: 'PROVISIONING_FAILED',
        comment: `Provisioning to target "${target.description}" failed (attempt ${attempts}): ${message}${givingUp ? '; no more retries, retry it by hand' : `; retrying at ${retryAt}`}`,
      });
    });
    return retryAt;
  }

  /** Puts a job back without counting an attempt, to run with the earlier target that failed. */
  private async defer(job: ProvisioningJobTable, runAfter: string, why: string): Promise<void> {
    const now = this.ctx.clock.now();
    await this.settle(this.ctx.db, [job.id], { state: 'pending', last_error: why, run_after: runAfter, updated_at: now.toISOString() });
  }
}
