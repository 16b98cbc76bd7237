import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { Clock } from '../clock.ts';
import type { ChangeEvent, ChangeListener } from '../context.ts';
import type { JobKind, ProvisioningTargetTable } from './provisioning.table.ts';
import { provisionerOf, toTarget, type ProvisioningContext } from './target.service.ts';

/** Modes in which a registry change writes a job by itself; `manual` targets wait for a reprovision. */
const LISTENING_MODES: ReadonlyArray<ProvisioningTargetTable['mode']> = ['automatic', 'queue', 'queue_on_error'];

/**
 * Adds a job for (target, person), or folds it into the one already waiting: jobs for the same
 * (target, person) coalesce, and a deletion outranks a sync.
 */
export async function enqueueJob(
  db: Executor,
  clock: Clock,
  target: Pick<ProvisioningTargetTable, 'id' | 'co_id'>,
  personId: string,
  kind: JobKind,
  reason: string,
  batchId: string | null = null,
): Promise<void> {
  const now = clock.now().toISOString();
  const waiting = await db
    .selectFrom('provisioning_job')
    .select(['id', 'kind'])
    .where('target_id', '=', target.id)
    .where('person_id', '=', personId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  if (waiting) {
    await db
      .updateTable('provisioning_job')
      .set({ kind: waiting.kind === 'delete' || kind === 'delete' ? 'delete' : 'sync', run_after: now, reason, updated_at: now, ...(batchId ? { batch_id: batchId } : {}) })
      .where('id', '=', waiting.id)
      .execute();
    return;
  }
  await db
    .insertInto('provisioning_job')
    .values({
      id: newId(),
      co_id: target.co_id,
      target_id: target.id,
      person_id: personId,
      kind,
      state: 'pending',
      attempts: 0,
      run_after: now,
      locked_by: null,
      locked_until: null,
      last_error: null,
      batch_id: batchId,
      reason,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

async function peopleOf(db: Executor, ctx: ProvisioningContext, event: ChangeEvent, target: ProvisioningTargetTable): Promise<string[]> {
  switch (event.kind) {
    case 'person':
    case 'person-deleted':
      return [event.personId];
    case 'group': {
      const group = await db.selectFrom('co_group').select('group_type').where('id', '=', event.groupId).executeTakeFirst();
      if (group?.group_type === 'members') {
        const rows = await db.selectFrom('co_person').select('id').where('co_id', '=', event.coId).execute();
        return rows.map((r) => r.id);
      }
      const rows = await db.selectFrom('co_group_member').select('person_id').where('group_id', '=', event.groupId).execute();
      return rows.map((r) => r.person_id);
    }
    case 'service': {
      const provisioner = provisionerOf(ctx, target.plugin);
      return provisioner?.peopleAffectedByService ? provisioner.peopleAffectedByService(db, toTarget(ctx, target), event.serviceId) : [];
    }
  }
}

/**
 * The transactional outbox: for every registry change, writes the jobs of the CO's targets in the
 * transaction of the change, then nudges the worker (which finds them once the change commits).
 */
export function provisioningOutbox(ctx: ProvisioningContext, nudge: () => void): ChangeListener {
  return async (db, event) => {
    const targets = await db.selectFrom('provisioning_target').selectAll().where('co_id', '=', event.coId).where('mode', 'in', [...LISTENING_MODES]).execute();
    if (targets.length === 0) return;
    let wrote = false;
    for (const target of targets) {
      for (const personId of new Set(await peopleOf(db, ctx, event, target))) {
        await enqueueJob(db, ctx.clock, target, personId, event.kind === 'person-deleted' ? 'delete' : 'sync', event.reason);
        wrote = true;
      }
    }
    // `queue` targets wait for the worker's next poll; the others are taken up at once.
    if (wrote && targets.some((t) => t.mode !== 'queue')) nudge();
  };
}
