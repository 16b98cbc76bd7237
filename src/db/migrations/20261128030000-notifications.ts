import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('link', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('read_at', 'text')
    .execute();
  await db.schema.createIndex('notification_person_idx').on('notification').columns(['person_id', 'created_at']).execute();

  await db.schema
    .createTable('outbound_email')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('notification_id', 'text', (c) => c.references('notification.id').onDelete('set null'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_after', 'text', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('outbound_email_due_idx').on('outbound_email').columns(['state', 'run_after']).execute();
  await db.schema.createIndex('outbound_email_co_idx').on('outbound_email').columns(['co_id', 'state']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('outbound_email').execute();
  await db.schema.dropTable('notification').execute();
}
