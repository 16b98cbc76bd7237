import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('service_token_setting')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('service_id', 'text', (c) => c.notNull().unique().references('co_service.id').onDelete('cascade'))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('token_type', 'text', (c) => c.notNull())
    .addColumn('custom_type', 'text')
    .addColumn('storage_scheme', 'text', (c) => c.notNull())
    .addColumn('max_lifetime_days', 'integer')
    .addColumn('max_tokens_per_person', 'integer', (c) => c.notNull())
    .addColumn('generation', 'text', (c) => c.notNull())
    .addColumn('plaintext_acknowledged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expiry_warning_days', 'text', (c) => c.notNull().defaultTo('30,7,1'))
    .addColumn('notices_off', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('service_token')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('service_id', 'text', (c) => c.notNull().references('co_service.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('token_type', 'text', (c) => c.notNull())
    .addColumn('token_type_def', 'text', (c) => c.notNull())
    .addColumn('storage_scheme', 'text', (c) => c.notNull())
    .addColumn('display_hint', 'text', (c) => c.notNull())
    .addColumn('request_nonce', 'text', (c) => c.notNull())
    .addColumn('created_by_label', 'text', (c) => c.notNull())
    .addColumn('created_by_person_id', 'text')
    .addColumn('created_by_api_user_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('last_used_address', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_by_label', 'text')
    .addColumn('revoked_reason', 'text')
    .addColumn('expiry_handled_at', 'text')
    .addUniqueConstraint('service_token_nonce_uq', ['person_id', 'request_nonce'])
    .execute();
  await db.schema.createIndex('service_token_person_idx').on('service_token').columns(['co_id', 'person_id', 'service_id']).execute();
  await db.schema.createIndex('service_token_service_idx').on('service_token').columns(['service_id', 'revoked_at']).execute();
  await db.schema.createIndex('service_token_expiry_idx').on('service_token').columns(['expiry_handled_at', 'expires_at']).execute();

  await db.schema
    .createTable('service_verifier')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('service_id', 'text', (c) => c.notNull().references('co_service.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('created_by_label', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('service_verifier_service_idx').on('service_verifier').column('service_id').execute();

  await db.schema
    .createTable('service_token_warning')
    .addColumn('token_id', 'text', (c) => c.notNull().references('service_token.id').onDelete('cascade'))
    .addColumn('days', 'integer', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('service_token_warning_pk', ['token_id', 'days'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('service_token_warning').execute();
  await db.schema.dropTable('service_verifier').execute();
  await db.schema.dropTable('service_token').execute();
  await db.schema.dropTable('service_token_setting').execute();
}
