import type { Kysely } from 'kysely';

/**
 * Last use seen outside the verification API (`service_token_external_use`, e.g. an LDAP bind at a
 * service entry, per person and service), the unused-token policy's setting
 * (`service_token_setting.revoke_unused_after_days`) and the notices it sent
 * (`service_token_unused_notice`, one per token and idle period).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('service_token_external_use')
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('service_id', 'text', (c) => c.notNull().references('co_service.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('service_token_external_use_pk', ['co_id', 'person_id', 'service_id', 'source'])
    .execute();
  await db.schema.alterTable('service_token_setting').addColumn('revoke_unused_after_days', 'integer').execute();
  await db.schema
    .createTable('service_token_unused_notice')
    .addColumn('token_id', 'text', (c) => c.primaryKey().references('service_token.id').onDelete('cascade'))
    .addColumn('idle_since', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('service_token_unused_notice').execute();
  await db.schema.alterTable('service_token_setting').dropColumn('revoke_unused_after_days').execute();
  await db.schema.dropTable('service_token_external_use').execute();
}
