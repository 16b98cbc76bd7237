import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { BackgroundJob } from '../jobs/background-job.ts';
import type { ProvisioningDataContributor } from './provisioning-data.ts';
import { duePeople, releaseLeases, renewLeases, workersHoldingJobs } from './provisioning-job.repository.ts';
import { PassSession } from './provisioner-session.ts';
import { HeldJobs } from './held-jobs.ts';
import type { ProvisioningContext } from './target.service.ts';
import { claimChunk, runChunk, type ChunkEnv } from './worker-chunk.ts';
import { settleChunk } from './worker-settle.ts';

export interface WorkerOptions {
  /** How often to look for due jobs when not nudged, in ms. Default 1000. */
  pollMs?: number;
  /**
   * How long a claimed job is ours without a heartbeat, in ms. While a pass runs, the worker renews
   * its leases every third of this; a worker that dies on another host loses its jobs to the
   * others when it runs out (on the same host, at once: see `deadWorkersOnThisHost`). Default 15 000.
   */
  leaseMs?: number;
  /** People whose provisioners run at once in a chunk. Default 32. */
  concurrency?: number;
  /** People taken up per pass at most (those due at its start, then those that come due while it runs). Default 500. */
  batchSize?: number;
  /** People claimed, read and settled together (one transaction each), at most. Default 100. */
  chunkSize?: number;
}

/** How long a pass keeps taking up people whose jobs came due after it started, in ms. */
const PASS_REFILL_MS = 5_000;

/** Chunks of a pass under way at once: while one waits for its targets, the next is claimed or settled. */
const CHUNK_LANES = 2;

/**
 * Claims due jobs and runs them in chunks of people of one CO: each chunk's jobs claimed in one
 * transaction, its people's data and states read with set-based queries, their targets run in
 * order (deletions in reverse, so a token provisioner never runs before the entry it writes into
 * exists), and its outcomes settled in one transaction. Claiming is one UPDATE … WHERE state =
 * 'pending', so two workers never run the same job. Jobs of a target that cannot be reached are
 * held (held-jobs.ts) and released once a probe finds it again. The loop (poll, nudge, back-off)
 * is a BackgroundJob; failures are logged with the CO, target, job and person ids, never a setting.
 */
export class ProvisioningWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly job: BackgroundJob;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly chunkSize: number;
  private readonly held: HeldJobs;

  constructor(
    private readonly ctx: ProvisioningContext,
    private readonly contributors: readonly ProvisioningDataContributor[],
    options: WorkerOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 15_000;
    this.concurrency = options.concurrency ?? 32;
    this.batchSize = options.batchSize ?? 500;
    this.chunkSize = options.chunkSize ?? 100;
    this.held = new HeldJobs(ctx);
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

  private get env(): ChunkEnv {
    return { ctx: this.ctx, contributors: this.contributors, workerId: this.id, leaseMs: this.leaseMs, concurrency: this.concurrency, logger: this.ctx.logger };
  }

  /**
   * One pass: release lapsed leases and the held jobs of targets that answer again, take up due
   * people, run their jobs chunk by chunk. Returns jobs run. Passes may run side by side (in this
   * worker or others): claims keep them apart.
   */
  async runOnce(): Promise<number> {
    const now = this.ctx.clock.now().toISOString();
    const taken = await releaseLeases(this.ctx.db, now, deadWorkersOnThisHost(await workersHoldingJobs(this.ctx.db)));
    if (taken > 0) this.ctx.logger.info({ jobs: taken }, 'provisioning jobs taken back from stopped workers');
    await this.held.releaseReachable();
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
      // Lanes take the next chunk as soon as they are free; when the list runs out, it is read
      // again (up to `batchSize` people and PASS_REFILL_MS per pass), so people whose jobs arrived
      // during the pass wait for a free lane, not for the end of the pass.
      const queue = [...due];
      let takenUp = queue.length;
      const inFlight = new Set<string>();
      const passStarted = Date.now();
      let refilling: Promise<void> | undefined;
      const refill = () =>
        (refilling ??= (async () => {
          if (takenUp < this.batchSize && Date.now() - passStarted < PASS_REFILL_MS) {
            const more = await duePeople(this.ctx.db, this.ctx.clock.now().toISOString(), this.batchSize);
            const fresh = more.filter((p) => !inFlight.has(p.personId)).slice(0, this.batchSize - takenUp);
            queue.push(...fresh);
            takenUp += fresh.length;
          }
          refilling = undefined;
        })());
      const nextChunk = (): { coId: string; personIds: string[] } | undefined => {
        const first = queue[0];
        if (!first) return undefined;
        // Split what is queued between the lanes, so a handful of people do not wait for one another.
        const size = Math.max(1, Math.min(this.chunkSize, Math.ceil(queue.length / CHUNK_LANES)));
        const personIds: string[] = [];
        for (let i = 0; i < queue.length && personIds.length < size; ) {
          if (queue[i]!.coId === first.coId) personIds.push(queue.splice(i, 1)[0]!.personId);
          else i++;
        }
        return { coId: first.coId, personIds };
      };
      const lanes = Array.from({ length: CHUNK_LANES }, async () => {
        for (;;) {
          if (queue.length === 0) await refill();
          const chunk = nextChunk();
          if (!chunk) return;
          for (const id of chunk.personIds) inFlight.add(id);
          try {
            // Not `count += await …`: that reads `count` before the await, and lanes would overwrite each other.
            const ran = await this.runChunkOf(chunk.coId, chunk.personIds, session);
            count += ran;
          } finally {
            for (const id of chunk.personIds) inFlight.delete(id);
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

  /** Claims, runs and settles the due jobs of some people of one CO; returns how many jobs were claimed. */
  private async runChunkOf(coId: string, personIds: string[], session: PassSession): Promise<number> {
    const env = this.env;
    const claimed = await claimChunk(env, coId, personIds);
    if (claimed.length === 0) return 0;
    const { outcomes, writes } = await runChunk(env, coId, claimed, session);
    const failed = await settleChunk(env, coId, outcomes, writes);
    for (const { target, job, message, givingUp, retryAt, unreachable } of failed) {
      this.ctx.logger.warn(
        { coId: target.coId, targetId: target.id, jobId: job.id, personId: job.personId, attempts: job.attempts + 1, error: message, ...(givingUp ? { givingUp } : { retryAt }), ...(unreachable ? { held: true } : {}) },
        'provisioning job failed',
      );
    }
    for (const o of outcomes) {
      if (o.kind === 'succeeded') this.ctx.logger.debug({ coId, targetId: o.target.id, jobId: o.job.id, personId: o.job.personId, status: o.result.status }, 'provisioning job succeeded');
    }
    return claimed.length;
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
