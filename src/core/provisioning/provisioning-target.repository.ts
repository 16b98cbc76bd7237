import type { Executor } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import { takesRowLocks } from '../../db/transaction.ts';
import type { Target } from './provisioner.ts';
import type { ProvisioningMode, ProvisioningTargetTable } from './provisioning.table.ts';

/**
 * A target as stored: its settings parsed from JSON, secret fields still sealed (see secret-box.ts).
 * Services turn it into a `Target` for a provisioner (`unsealTarget`) or for display (`publicTarget`).
 */
export type StoredTarget = Target;

function toStoredTarget(r: ProvisioningTargetTable): StoredTarget {
  return {
    id: r.id,
    coId: r.co_id,
    provisionerType: r.provisioner_type,
    description: r.description,
    mode: r.mode,
    ordinal: r.ordinal,
    retryIntervalSeconds: r.retry_interval_seconds,
    maxRetries: r.max_retries,
    provisionGroupId: r.provision_group_id,
    config: JSON.parse(r.config) as Record<string, unknown>,
  };
}

/** The CO's targets in their order (ordinal, then creation); `modes` keeps only targets in those modes. */
export async function targetsOfCo(db: Executor, coId: string, modes?: readonly ProvisioningMode[]): Promise<StoredTarget[]> {
  let query = db.selectFrom('provisioning_target').selectAll().where('co_id', '=', coId);
  if (modes) query = query.where('mode', 'in', [...modes]);
  const rows = await query.orderBy('ordinal').orderBy('created_at').execute();
  return rows.map(toStoredTarget);
}

/** One target of the CO; undefined for an unknown id, a malformed one, or a target of another CO. */
export async function findStoredTarget(db: Executor, coId: string, targetId: string): Promise<StoredTarget | undefined> {
  if (!isId(targetId)) return undefined;
  const row = await db.selectFrom('provisioning_target').selectAll().where('co_id', '=', coId).where('id', '=', targetId).executeTakeFirst();
  return row ? toStoredTarget(row) : undefined;
}

/**
 * Keeps the target from being deleted for the rest of the transaction (`FOR KEY SHARE`), so rows
 * that refer to it can be written; returns whether it still exists. On SQLite it only reads.
 */
export async function keepTarget(db: Executor, targetId: string): Promise<boolean> {
  const query = db.selectFrom('provisioning_target').select('id').where('id', '=', targetId);
  return (await (takesRowLocks(db) ? query.forKeyShare() : query).executeTakeFirst()) !== undefined;
}

function columnsOf(t: StoredTarget, updatedAt: string) {
  return {
    provisioner_type: t.provisionerType,
    description: t.description,
    mode: t.mode,
    ordinal: t.ordinal,
    retry_interval_seconds: t.retryIntervalSeconds,
    max_retries: t.maxRetries,
    provision_group_id: t.provisionGroupId,
    config: JSON.stringify(t.config),
    updated_at: updatedAt,
  };
}

/** Stores a new target (its `config` already sealed); `now` is an ISO timestamp. */
export async function insertStoredTarget(db: Executor, target: StoredTarget, now: string): Promise<void> {
  await db.insertInto('provisioning_target').values({ id: target.id, co_id: target.coId, created_at: now, ...columnsOf(target, now) }).execute();
}

/** Replaces a target's settings (its `config` already sealed); `now` is an ISO timestamp. */
export async function updateStoredTarget(db: Executor, target: StoredTarget, now: string): Promise<void> {
  await db.updateTable('provisioning_target').set(columnsOf(target, now)).where('id', '=', target.id).where('co_id', '=', target.coId).execute();
}

/** Deletes a target; its jobs and states go with it (foreign keys cascade). */
export async function deleteStoredTarget(db: Executor, coId: string, targetId: string): Promise<void> {
  await db.deleteFrom('provisioning_target').where('id', '=', targetId).where('co_id', '=', coId).execute();
}
