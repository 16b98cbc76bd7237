import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './database.ts';
import * as core from './migrations/20261128000000-core.ts';
import * as provisioning from './migrations/20261128020000-provisioning.ts';
import * as notifications from './migrations/20261128030000-notifications.ts';
import * as provisionerType from './migrations/20261201000000-provisioner-type.ts';
import * as identifierKey from './migrations/20261202000000-identifier-key.ts';
import * as pendingJobKey from './migrations/20261210000000-pending-job-key.ts';
import * as signInNamespaces from './migrations/20261210000000-sign-in-namespaces.ts';
import * as apiUserPerCo from './migrations/20261210010000-api-user-per-co.ts';
import * as sweepMarks from './migrations/20261215010000-sweep-marks.ts';
import * as sources from './migrations/20261220000000-sources.ts';
import * as comanageImport from './migrations/20261221000000-comanage-import.ts';
import * as scimTokens from './migrations/20261222000000-scim-tokens.ts';
import * as heldJobs from './migrations/20261224000000-held-jobs.ts';
import * as peopleSearch from './migrations/20261225000000-people-search.ts';
import * as groupMemberOrder from './migrations/20261228000000-group-member-order.ts';
import * as searchTermsFollowDeletes from './migrations/20261228010000-search-terms-follow-deletes.ts';
import * as searchTermPersonIndex from './migrations/20261228020000-search-term-person-index.ts';

const CORE_MIGRATIONS: Record<string, Migration> = {
  '20261128000000-core': core,
  '20261128020000-provisioning': provisioning,
  '20261128030000-notifications': notifications,
  '20261201000000-provisioner-type': provisionerType,
  '20261202000000-identifier-key': identifierKey,
  '20261210000000-pending-job-key': pendingJobKey,
  '20261210000000-sign-in-namespaces': signInNamespaces,
  '20261210010000-api-user-per-co': apiUserPerCo,
  '20261215010000-sweep-marks': sweepMarks,
  '20261220000000-sources': sources,
  '20261221000000-comanage-import': comanageImport,
  '20261222000000-scim-tokens': scimTokens,
  '20261224000000-held-jobs': heldJobs,
  '20261225000000-people-search': peopleSearch,
  '20261228000000-group-member-order': groupMemberOrder,
  '20261228010000-search-terms-follow-deletes': searchTermsFollowDeletes,
  '20261228020000-search-term-person-index': searchTermPersonIndex,
};

class StaticMigrations implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export interface MigrationSet {
  /** `core` or a plugin id; each set has its own bookkeeping table. */
  owner: string;
  migrations: Record<string, Migration>;
}

function migratorFor(db: Db, set: MigrationSet): Migrator {
  const suffix = set.owner.replace(/[^a-z0-9]/gi, '_');
  return new Migrator({
    db,
    provider: new StaticMigrations(set.migrations),
    migrationTableName: `tessera_migration_${suffix}`,
    migrationLockTableName: `tessera_migration_lock_${suffix}`,
  });
}

function check(owner: string, result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Migration of ${owner}${failed ? ` (${failed})` : ''} failed: ${String((result.error as Error).message ?? result.error)}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => `${owner}/${r.migrationName}`);
}

export function migrationSets(plugins: ReadonlyArray<{ id: string; migrations?: Record<string, Migration> }>): MigrationSet[] {
  return [
    { owner: 'core', migrations: CORE_MIGRATIONS },
    ...plugins.filter((p) => p.migrations).map((p) => ({ owner: p.id, migrations: p.migrations! })),
  ];
}

/** Applies every pending migration, core first, then plugins in their configured order. */
export async function migrateToLatest(db: Db, sets: MigrationSet[]): Promise<string[]> {
  const applied: string[] = [];
  for (const set of sets) applied.push(...check(set.owner, await migratorFor(db, set).migrateToLatest()));
  return applied;
}

/** Reverts every migration, plugins first (reverse order), then the core. */
export async function migrateAllDown(db: Db, sets: MigrationSet[]): Promise<void> {
  const { NO_MIGRATIONS } = await import('kysely');
  for (const set of [...sets].reverse()) check(set.owner, await migratorFor(db, set).migrateTo(NO_MIGRATIONS));
}

/** The migrations not applied yet, as `owner/name`, core first; reads only (creates no table). */
export async function pendingMigrations(db: Db, sets: MigrationSet[]): Promise<string[]> {
  const pending: string[] = [];
  for (const set of sets) {
    for (const m of await migratorFor(db, set).getMigrations()) if (m.executedAt === undefined) pending.push(`${set.owner}/${m.name}`);
  }
  return pending;
}
