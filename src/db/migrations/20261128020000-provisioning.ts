import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provisioning_target')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('plugin', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('retry_interval_seconds', 'integer', (c) => c.notNull())
    .addColumn('max_retries', 'integer', (c) => c.notNull())
    .addColumn('provision_group_id', 'text', (c) => c.references('co_group.id').onDelete('set null'))
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('provisioning_job')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('target_id', 'text', (c) => c.notNull().references('provisioning_target.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_after', 'text', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('batch_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('provisioning_job_due_idx').on('provisioning_job').columns(['state', 'run_after']).execute();
  await db.schema.createIndex('provisioning_job_person_idx').on('provisioning_job').columns(['person_id', 'target_id', 'state']).execute();
  await db.schema.createIndex('provisioning_job_batch_idx').on('provisioning_job').columns(['batch_id', 'state']).execute();

  await db.schema
    .createTable('provisioning_state')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('target_id', 'text', (c) => c.notNull().references('provisioning_target.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('target_key', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_success_at', 'text')
    .addUniqueConstraint('provisioning_state_uq', ['target_id', 'person_id'])
    .execute();
  await db.schema.createIndex('provisioning_state_person_idx').on('provisioning_state').column('person_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provisioning_state').execute();
  await db.schema.dropTable('provisioning_job').execute();
  await db.schema.dropTable('provisioning_target').execute();
}
