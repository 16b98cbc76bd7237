import { sql, type Kysely } from 'kysely';

/**
 * One fresh pending job per (target, person) at most: a unique index over the jobs that wait and
 * were never tried (no attempt, no error), so the outbox writes a job with one
 * `INSERT … ON CONFLICT … DO UPDATE` that folds it into the waiting one, instead of a read and an
 * update that race the worker. Jobs retrying after a failure, deferred behind another target or
 * taken back from a stopped worker carry an error and stay outside the index, so settling them
 * never collides with a new job. Both SQLite (3.8+ partial indexes, 3.24+ upsert) and PostgreSQL
 * (9.5+) have partial unique indexes and ON CONFLICT on them.
 *
 * Duplicates written before the index existed are folded first: the newest stays, a deletion
 * outranking a sync, the others are settled as superseded.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const fresh = sql<boolean>`state = 'pending' and attempts = 0 and last_error is null`;
  await sql`
    update provisioning_job set kind = 'delete'
    where ${fresh} and kind <> 'delete' and exists (
      select 1 from provisioning_job d
      where d.target_id = provisioning_job.target_id and d.person_id = provisioning_job.person_id
        and d.state = 'pending' and d.attempts = 0 and d.last_error is null and d.kind = 'delete')
  `.execute(db);
  await sql`
    update provisioning_job set state = 'superseded', finished_at = updated_at
    where ${fresh} and exists (
      select 1 from provisioning_job n
      where n.target_id = provisioning_job.target_id and n.person_id = provisioning_job.person_id
        and n.state = 'pending' and n.attempts = 0 and n.last_error is null
        and (n.created_at > provisioning_job.created_at or (n.created_at = provisioning_job.created_at and n.id > provisioning_job.id)))
  `.execute(db);
  await db.schema
    .createIndex('provisioning_job_pending_uq')
    .unique()
    .on('provisioning_job')
    .columns(['target_id', 'person_id'])
    .where(fresh)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('provisioning_job_pending_uq').execute();
}
