import type { z } from 'zod';
import type { Executor } from '../../db/database.ts';
import type { CoreContext } from '../context.ts';
import type { ProvisioningData } from './provisioning-data.ts';
import type { ProvisioningTargetTable } from './provisioning.table.ts';

/** A target as a provisioner sees it: its settings decrypted. */
export interface Target<C = Record<string, unknown>> {
  id: string;
  coId: string;
  /** The `type` of the provisioner that runs it (e.g. `ldap`). */
  provisionerType: string;
  description: string;
  mode: ProvisioningTargetTable['mode'];
  ordinal: number;
  retryIntervalSeconds: number;
  maxRetries: number;
  provisionGroupId: string | null;
  config: C;
}

export interface PreviousState {
  status: 'provisioned' | 'removed' | 'failed';
  targetKey: string | null;
  detail: Record<string, unknown>;
}

export interface ProvisionInput<C> {
  target: Target<C>;
  /** Every target of the CO (a provisioner may depend on another, e.g. its LDAP target). */
  targets: Target[];
  /** `present`: the target should hold the person as `data` says; `absent`: it should not hold them. */
  intent: 'present' | 'absent';
  /** The registry's view of the person now; undefined once the person is deleted. */
  data: ProvisioningData | undefined;
  personId: string;
  previous: PreviousState | undefined;
  /** What other targets recorded for this person (e.g. the DN the LDAP target wrote). */
  stateOf(targetId: string): Promise<PreviousState | undefined>;
  /** Connections opened for this run, reused across the people of a batch. */
  session: ProvisionerSession;
  /** The worker's chunk this run belongs to (absent when a person runs alone): for reads made once for all its people. */
  chunk?: ProvisionerChunk;
}

/**
 * The people a worker runs together (one chunk, one CO): a provisioner may read what it needs for
 * all of them at once, on the first run that asks, instead of once per person.
 */
export interface ProvisionerChunk {
  /** The people of the chunk, in no particular order. */
  readonly personIds: readonly string[];
  /** A person's provisioning data as the chunk read it; undefined for a person deleted. */
  dataOf(personId: string): ProvisioningData | undefined;
  /**
   * The value kept under `key` for this chunk, loaded by `load` on first use and shared by the
   * chunk's later runs (a failed load is not kept). Keys are the provisioner's (prefix them with its type).
   */
  once<T>(key: string, load: () => Promise<T>): Promise<T>;
  /**
   * Runs `write` in the transaction that settles the chunk's outcomes (before them), instead of in
   * a commit of its own. Only for records the provisioner rebuilds on its next run if the process
   * dies before that transaction (the chunk's jobs run again then).
   */
  atSettle(write: (db: Executor) => Promise<void>): void;
}

export interface ProvisionResult {
  /** `removed` when the target no longer holds the person. */
  status: 'provisioned' | 'removed';
  targetKey: string | null;
  detail?: Record<string, unknown>;
}

/** Something a provisioner wants the target's page to say (e.g. what the directory was found to support). */
export interface TargetNotice {
  level: 'ok' | 'warning';
  text: string;
}

/** A place a provisioner keeps connections for the length of one worker pass. */
export interface ProvisionerSession {
  get<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T>;
}

/**
 * A provisioner type, contributed by a plugin. It reconciles: it computes what the target should
 * hold for the person now and makes it so, so running it twice changes nothing.
 */
export interface Provisioner<S extends z.ZodType = z.ZodType> {
  /**
   * The provisioner type, unique among the enabled provisioners (e.g. `ldap`); a target names it in
   * `provisionerType` (column provisioning_target.provisioner_type).
   */
  type: string;
  label: string;
  /** Settings schema, shared by the web form and the API. */
  configSchema: S;
  /** Fields of the settings that are encrypted at rest and never shown back. */
  secretFields: string[];
  /**
   * The settings that say where the secrets are sent (e.g. the server URL). An update that changes
   * one must give the secrets again: a kept secret only ever goes where it was given for, so being
   * allowed to edit a target is not being able to read its password. Unset: every other setting.
   */
  secretsBoundTo?: string[];
  /** Checks the settings against the CO's other targets (e.g. ordering); throws AppError. */
  validate?(db: Executor, ctx: CoreContext, target: Target<z.output<S>>, targets: Target[]): Promise<void>;
  /** People whose provisioning a change of this service affects, beyond the usual ones. */
  peopleAffectedByService?(db: Executor, target: Target<z.output<S>>, serviceId: string): Promise<string[]>;
  /**
   * What an administrator should know about a target's settings, one sentence each, shown on the
   * target's page (e.g. a password sent without TLS). Pure: no I/O.
   */
  warnings?(target: Target<z.output<S>>): string[];
  /**
   * Settings a target draws from elsewhere (e.g. its LDAP server's URL and credential, which only
   * platform admins set), merged over its own settings for provisioners only: in the targets a
   * provisioner runs with and validates against, never in what is shown or stored.
   */
  expandConfig?(db: Executor, target: Target): Promise<Record<string, unknown>>;
  /**
   * The values a CO admin may choose for settings declared `.meta({ references: 'choice' })`, by
   * setting name (e.g. the LDAP servers assigned to the CO); offered as a select.
   */
  choices?(db: Executor, coId: string): Promise<Record<string, Array<{ value: string; label: string }>>>;
  /**
   * Whether this run would only take access away (e.g. withdraw token values): such a run goes
   * ahead although an earlier target of the person failed in the same pass, instead of waiting
   * behind that target's back-off, so a revocation or suspension fails closed. Unset: it waits.
   */
  onlyWithdraws?(input: { target: Target<z.output<S>>; intent: 'present' | 'absent'; data: ProvisioningData | undefined; previous: PreviousState | undefined }): boolean;
  provision(input: ProvisionInput<z.output<S>>): Promise<ProvisionResult>;
  /**
   * Checks that the target's system answers (e.g. connects and binds to the directory), throwing
   * when it does not. The worker probes the targets whose jobs are held because `provision` threw
   * a TargetUnreachableError (target-unreachable.ts), and releases them once this resolves.
   * Unset: held jobs wait for their back-off.
   */
  probe?(target: Target<z.output<S>>, targets: Target[]): Promise<void>;
  /** What the target's page should say about it beyond its settings (read-only; no network). */
  notices?(db: Executor, target: Target<z.output<S>>): Promise<TargetNotice[]>;
}
