import { sql, type Kysely } from 'kysely';

/**
 * Jobs held while their target's system is unreachable (a directory that is down):
 * - `held_since`: when the job was last put back because the target could not be reached; null
 *   otherwise. The worker probes the targets of held jobs and, once one answers, makes its held
 *   jobs due at once, instead of letting them wait out their back-off.
 * - `held_attempts`: how many of the job's `attempts` met an unreachable target. They are shown
 *   like any attempt, but do not count against the target's maximum of retries: an outage never
 *   makes a job give up.
 * The partial index lets the worker find the held targets in one index scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('provisioning_job').addColumn('held_since', 'text').execute();
  await db.schema
    .alterTable('provisioning_job')
    .addColumn('held_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('provisioning_job_held_idx')
    .on('provisioning_job')
    .columns(['target_id'])
    .where(sql.ref('held_since'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('provisioning_job_held_idx').execute();
  await db.schema.alterTable('provisioning_job').dropColumn('held_attempts').execute();
  await db.schema.alterTable('provisioning_job').dropColumn('held_since').execute();
}
