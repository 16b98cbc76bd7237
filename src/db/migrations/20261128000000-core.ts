import { sql, type Kysely } from 'kysely';

// Portable across SQLite and PostgreSQL: text ids made by the application, ISO-8601 text
// timestamps, integer 0/1 booleans.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('co')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('is_platform', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('co_person')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('co_person_co_idx').on('co_person').columns(['co_id', 'status']).execute();

  await db.schema
    .createTable('co_identifier_type')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addUniqueConstraint('co_identifier_type_name_uq', ['co_id', 'name'])
    .execute();

  await db.schema
    .createTable('identifier')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('login', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('identifier_co_type_value_uq', ['co_id', 'type', 'identifier'])
    .execute();
  await db.schema.createIndex('identifier_person_idx').on('identifier').column('person_id').execute();
  await db.schema.createIndex('identifier_login_idx').on('identifier').columns(['identifier', 'login']).execute();

  await db.schema
    .createTable('name')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('given', 'text', (c) => c.notNull())
    .addColumn('middle', 'text')
    .addColumn('family', 'text')
    .addColumn('suffix', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('primary_name', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('name_person_idx').on('name').column('person_id').execute();

  await db.schema
    .createTable('email_address')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('mail', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('email_address_person_idx').on('email_address').column('person_id').execute();

  await db.schema
    .createTable('co_group')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('group_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('co_group_name_uq', ['co_id', 'name'])
    .execute();

  await db.schema
    .createTable('co_group_member')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull().references('co_group.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('member', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('owner', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('valid_from', 'text')
    .addColumn('valid_through', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('co_group_member_uq', ['group_id', 'person_id'])
    .execute();
  await db.schema.createIndex('co_group_member_person_idx').on('co_group_member').column('person_id').execute();

  await db.schema
    .createTable('co_service')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('short_label', 'text', (c) => c.notNull())
    .addColumn('co_group_id', 'text', (c) => c.references('co_group.id').onDelete('set null'))
    .addColumn('service_url', 'text')
    .addColumn('contact_email', 'text')
    .addColumn('logo_url', 'text')
    .addColumn('entitlement_uri', 'text')
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('identifier_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('co_service_short_label_uq')
    .on('co_service')
    .unique()
    .columns(['co_id'])
    .expression(sql`lower(short_label)`)
    .execute();

  await db.schema
    .createTable('history_record')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.references('co_person.id').onDelete('set null'))
    .addColumn('group_id', 'text', (c) => c.references('co_group.id').onDelete('set null'))
    .addColumn('service_id', 'text', (c) => c.references('co_service.id').onDelete('set null'))
    .addColumn('actor_person_id', 'text', (c) => c.references('co_person.id').onDelete('set null'))
    .addColumn('actor_api_user_id', 'text')
    .addColumn('actor_label', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('history_record_person_idx').on('history_record').columns(['person_id', 'created_at']).execute();
  await db.schema.createIndex('history_record_co_idx').on('history_record').columns(['co_id', 'created_at']).execute();

  await db.schema
    .createTable('api_user')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('privileged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'text')
    .addColumn('valid_through', 'text')
    .addColumn('allowed_addresses', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('local_account')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('web_session')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('web_session_expires_idx').on('web_session').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'web_session',
    'local_account',
    'api_user',
    'history_record',
    'co_service',
    'co_group_member',
    'co_group',
    'email_address',
    'name',
    'identifier',
    'co_identifier_type',
    'co_person',
    'co',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
