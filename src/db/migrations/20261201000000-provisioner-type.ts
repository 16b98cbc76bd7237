import type { Kysely } from 'kysely';

/**
 * `provisioning_target.plugin` held a provisioner type (e.g. `ldap`), not a plugin id: the column
 * is renamed to `provisioner_type`. ALTER TABLE … RENAME COLUMN works on SQLite (3.25+) and
 * PostgreSQL alike and keeps the data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('provisioning_target').renameColumn('plugin', 'provisioner_type').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('provisioning_target').renameColumn('provisioner_type', 'plugin').execute();
}
