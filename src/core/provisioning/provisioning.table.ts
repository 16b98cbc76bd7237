import type { Generated } from 'kysely';

export const PROVISIONING_MODES = ['automatic', 'queue', 'queue_on_error', 'manual', 'disabled'] as const;
export type ProvisioningMode = (typeof PROVISIONING_MODES)[number];

export interface ProvisioningTargetTable {
  id: string;
  co_id: string;
  /** The type of the provisioner that runs the target (`Provisioner.type`, e.g. `ldap`), contributed by a plugin. */
  provisioner_type: string;
  description: string;
  mode: ProvisioningMode;
  ordinal: number;
  retry_interval_seconds: number;
  max_retries: number;
  /** When set, only members of this group are provisioned; others are removed. */
  provision_group_id: string | null;
  /** The provisioner's own settings as JSON; secret fields are encrypted (see secret-box.ts). */
  config: string;
  created_at: string;
  updated_at: string;
}

export type JobKind = 'sync' | 'delete';
export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'superseded';

/**
 * The outbox: one row per (target, person) that must be reconciled. Written in the transaction
 * of the change; claimed and run by a worker.
 */
export interface ProvisioningJobTable {
  id: string;
  co_id: string;
  target_id: string;
  /** Not a foreign key: a job must outlive the person it removes. */
  person_id: string;
  kind: JobKind;
  state: JobState;
  attempts: number;
  run_after: string;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  /** Groups the jobs of one reprovision request, for its progress. */
  batch_id: string | null;
  reason: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** When the job was put back because its target could not be reached (held until a probe finds it again); null otherwise. */
  held_since: string | null;
  /** Attempts (of `attempts`) that met an unreachable target; they do not count against the target's maximum of retries. */
  held_attempts: Generated<number>;
}

/** What a target holds for a person, as far as Tessera knows: shown to operators, used to rename. */
export interface ProvisioningStateTable {
  id: string;
  co_id: string;
  target_id: string;
  person_id: string;
  status: 'provisioned' | 'removed' | 'failed';
  /** The provisioner's key for the person in the target (the DN for LDAP). */
  target_key: string | null;
  /** Provisioner-owned JSON, e.g. which values this target wrote. */
  detail: string;
  last_error: string | null;
  last_attempt_at: string;
  last_success_at: string | null;
}

export interface ProvisioningTables {
  provisioning_target: ProvisioningTargetTable;
  provisioning_job: ProvisioningJobTable;
  provisioning_state: ProvisioningStateTable;
}
