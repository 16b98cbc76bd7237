import type { Kysely } from 'kysely';

/** `ldap_scheme_probe`: per LDAP target, which password schemes its directory was last found to verify. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ldap_scheme_probe')
    .addColumn('ldap_target_id', 'text', (c) => c.primaryKey().references('provisioning_target.id').onDelete('cascade'))
    .addColumn('co_id', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'text', (c) => c.notNull())
    .addColumn('verified', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ldap_scheme_probe').execute();
}
