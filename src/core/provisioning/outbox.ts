import type { Executor } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import type { ChangeEvent, ChangeListener } from '../context.ts';
import { personIdsAffectedByGroup } from '../groups/group.service.ts';
import { upsertPendingJob, upsertPendingJobs } from './provisioning-job.repository.ts';
import { targetsOfCo, type StoredTarget } from './provisioning-target.repository.ts';
import type { JobKind, ProvisioningMode } from './provisioning.table.ts';
import { provisionerOf, unsealTarget, type ProvisioningContext } from './target.service.ts';

/** Modes in which a registry change writes a job by itself; `manual` targets wait for a reprovision. */
const LISTENING_MODES: readonly ProvisioningMode[] = ['automatic', 'queue', 'queue_on_error'];

/**
 * Adds a job for (target, person), or folds it into the one already waiting: jobs for the same
 * (target, person) coalesce, and a deletion outranks a sync. One conflict-free statement
 * (`upsertPendingJob`), run in the transaction of the change.
 */
export async function enqueueJob(
  db: Executor,
  clock: Clock,
  target: { id: string; coId: string },
  personId: string,
  kind: JobKind,
  reason: string,
  batchId: string | null = null,
): Promise<void> {
  await upsertPendingJob(db, { coId: target.coId, targetId: target.id, personId, kind, reason, batchId }, clock.now().toISOString());
}

async function peopleOf(db: Executor, ctx: ProvisioningContext, event: ChangeEvent, target: StoredTarget): Promise<string[]> {
  switch (event.kind) {
    case 'person':
    case 'person-deleted':
      return [event.personId];
    case 'group':
      return personIdsAffectedByGroup(db, event.coId, event.groupId);
    case 'service': {
      const provisioner = provisionerOf(ctx, target.provisionerType);
      return provisioner?.peopleAffectedByService ? provisioner.peopleAffectedByService(db, unsealTarget(ctx, target), event.serviceId) : [];
    }
  }
}

/**
 * The transactional outbox: for every registry change, writes the jobs of the CO's targets in the
 * transaction of the change, then nudges the worker (which finds them once the change commits).
 */
export function provisioningOutbox(ctx: ProvisioningContext, nudge: () => void): ChangeListener {
  return async (db, event) => {
    const targets = await targetsOfCo(db, event.coId, LISTENING_MODES);
    if (targets.length === 0) return;
    let wrote = false;
    for (const target of targets) {
      // In id order, as every writer of jobs, so two changes never wait for each other's jobs in a cycle.
      const people = [...new Set(await peopleOf(db, ctx, event, target))].sort();
      const kind = event.kind === 'person-deleted' ? 'delete' : 'sync';
      await upsertPendingJobs(db, people.map((personId) => ({ coId: target.coId, targetId: target.id, personId, kind, reason: event.reason, batchId: null })), ctx.clock.now().toISOString());
      wrote ||= people.length > 0;
    }
    // `queue` targets wait for the worker's next poll; the others are taken up at once.
    if (wrote && targets.some((t) => t.mode !== 'queue')) nudge();
  };
}
