// Jobs held while their target cannot be reached, and their release: the worker probes the
// targets of held jobs (each at most every PROBE_INTERVAL_MS) and, once one answers, makes its
// held jobs due at once, so a directory that comes back gets its backlog within seconds instead
// of after the back-off of each job.
import { heldTargets, releaseHeldJobs } from './job-batch.repository.ts';
import { provisionerOf, unsealedTargetsOf, type ProvisioningContext } from './target.service.ts';

/** How often a held target is probed at most, in ms. */
export const PROBE_INTERVAL_MS = 1_000;

/**
 * Probes the targets that have held jobs and releases the jobs of those that answer. Probes are
 * throttled per target (wall-clock time, `PROBE_INTERVAL_MS`) across the calls of one instance.
 * A target whose provisioner has no `probe` is left to its jobs' back-off.
 */
export class HeldJobs {
  private readonly lastProbe = new Map<string, number>();

  constructor(private readonly ctx: ProvisioningContext) {}

  /** Probes the held targets due for a probe; returns how many jobs were released. Probe failures are expected (the target is still down) and only logged at debug level. */
  async releaseReachable(): Promise<number> {
    const held = await heldTargets(this.ctx.db);
    if (held.length === 0) {
      this.lastProbe.clear();
      return 0;
    }
    const byCo = new Map<string, string[]>();
    const started = Date.now();
    for (const { coId, targetId } of held) {
      if (started - (this.lastProbe.get(targetId) ?? 0) < PROBE_INTERVAL_MS) continue;
      this.lastProbe.set(targetId, started);
      byCo.set(coId, [...(byCo.get(coId) ?? []), targetId]);
    }
    let released = 0;
    for (const [coId, targetIds] of byCo) {
      const targets = await unsealedTargetsOf(this.ctx, this.ctx.db, coId);
      await Promise.all(
        targetIds.map(async (targetId) => {
          const target = targets.find((t) => t.id === targetId);
          const provisioner = target && provisionerOf(this.ctx, target.provisionerType);
          if (!target || !provisioner?.probe || target.mode === 'disabled') return;
          try {
            await provisioner.probe(target, targets);
          } catch (error) {
            this.ctx.logger.debug({ coId, targetId, error: String((error as Error)?.message ?? error) }, 'held provisioning target still unreachable');
            return;
          }
          const n = await releaseHeldJobs(this.ctx.db, targetId, this.ctx.clock.now().toISOString());
          released += n;
          if (n > 0) this.ctx.logger.info({ coId, targetId, jobs: n }, 'provisioning target reachable again: held jobs released');
        }),
      );
    }
    return released;
  }
}
