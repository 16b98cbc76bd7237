import type { Kysely } from 'kysely';

/**
 * `ldap_entry_claim`: one row per (directory, DN) that a person's entry holds, so a second person
 * whose identifier names the same entry (in this CO or another CO writing to the same directory)
 * fails with a named conflict instead of taking the entry over. A deleted target takes its claims
 * along; a deleted person's claim goes when their entry is removed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ldap_entry_claim')
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('dn_key', 'text', (c) => c.notNull())
    .addColumn('dn', 'text', (c) => c.notNull())
    .addColumn('co_id', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull().references('provisioning_target.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('claimed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ldap_entry_claim_pk', ['directory', 'dn_key'])
    .execute();
  await db.schema.createIndex('ldap_entry_claim_person_idx').on('ldap_entry_claim').columns(['target_id', 'person_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ldap_entry_claim').execute();
}
