import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/** The settings that move from an LDAP target to its server. */
const SERVER_FIELDS = ['url', 'startTls', 'tlsCaCertificates', 'tlsVerifyHostname', 'bindDn', 'bindPassword'] as const;

/**
 * LDAP servers become platform objects (`ldap_server`, assigned to COs by `ldap_server_co`), entries
 * Tessera created are recorded (`ldap_owned_entry`), and "adopt existing entries" is a switch only
 * platform admins set (`ldap_target_adoption`); a claim marks an add whose outcome is not yet
 * known (`ldap_entry_claim.add_pending`).
 *
 * Every existing LDAP target keeps working: its URL, TLS settings, bind DN and bind password (still
 * sealed with the same key: the ciphertext is copied, never opened) become a server named after the
 * target, assigned to the target's CO, whose one allowed subtree is the target's base DN; the
 * target then names that server (`serverId`). Entries those targets wrote before this change have
 * no recorded entryUUID: their next run records it, since the target's state says it wrote them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ldap_server')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('start_tls', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tls_ca_certificates', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('tls_verify_hostname', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('bind_dn', 'text', (c) => c.notNull())
    .addColumn('bind_password', 'text', (c) => c.notNull())
    .addColumn('subtrees', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('ldap_server_co')
    .addColumn('server_id', 'text', (c) => c.notNull().references('ldap_server.id').onDelete('cascade'))
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('assigned_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ldap_server_co_pk', ['server_id', 'co_id'])
    .execute();
  await db.schema
    .createTable('ldap_owned_entry')
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('entry_uuid', 'text', (c) => c.notNull())
    .addColumn('co_id', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('dn', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ldap_owned_entry_pk', ['directory', 'entry_uuid'])
    .execute();
  await db.schema
    .createTable('ldap_target_adoption')
    .addColumn('target_id', 'text', (c) => c.primaryKey().references('provisioning_target.id').onDelete('cascade'))
    .addColumn('set_by', 'text', (c) => c.notNull())
    .addColumn('set_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('ldap_entry_claim').addColumn('add_pending', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  const now = new Date().toISOString();
  const targets = await sql<{ id: string; co_id: string; description: string; config: string }>`select id, co_id, description, config from provisioning_target where provisioner_type = 'ldap'`.execute(db);
  for (const target of targets.rows) {
    const config = JSON.parse(target.config) as Record<string, unknown>;
    if (typeof config.url !== 'string') continue;
    const id = randomUUID();
    const name = `${target.description} (${target.id.slice(0, 8)})`;
    const ca = Array.isArray(config.tlsCaCertificates) ? config.tlsCaCertificates : [];
    await sql`insert into ldap_server (id, name, url, start_tls, tls_ca_certificates, tls_verify_hostname, bind_dn, bind_password, subtrees, created_at, updated_at)
      values (${id}, ${name}, ${config.url}, ${config.startTls === true ? 1 : 0}, ${JSON.stringify(ca)}, ${config.tlsVerifyHostname === false ? 0 : 1}, ${String(config.bindDn ?? '')}, ${String(config.bindPassword ?? '')}, ${JSON.stringify([String(config.baseDn ?? '')])}, ${now}, ${now})`.execute(db);
    await sql`insert into ldap_server_co (server_id, co_id, assigned_at) values (${id}, ${target.co_id}, ${now})`.execute(db);
    for (const field of SERVER_FIELDS) delete config[field];
    config.serverId = id;
    await sql`update provisioning_target set config = ${JSON.stringify(config)} where id = ${target.id}`.execute(db);
  }
}

/** Puts each target's server settings back into the target, then drops the tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  const targets = await sql<{ id: string; config: string }>`select id, config from provisioning_target where provisioner_type = 'ldap'`.execute(db);
  for (const target of targets.rows) {
    const config = JSON.parse(target.config) as Record<string, unknown>;
    const server = (
      await sql<{ url: string; start_tls: number; tls_ca_certificates: string; tls_verify_hostname: number; bind_dn: string; bind_password: string }>`select url, start_tls, tls_ca_certificates, tls_verify_hostname, bind_dn, bind_password from ldap_server where id = ${String(config.serverId ?? '')}`.execute(db)
    ).rows[0];
    if (!server) continue;
    delete config.serverId;
    Object.assign(config, { url: server.url, startTls: server.start_tls === 1, tlsCaCertificates: JSON.parse(server.tls_ca_certificates), tlsVerifyHostname: server.tls_verify_hostname === 1, bindDn: server.bind_dn, bindPassword: server.bind_password });
    await sql`update provisioning_target set config = ${JSON.stringify(config)} where id = ${target.id}`.execute(db);
  }
  for (const table of ['ldap_target_adoption', 'ldap_owned_entry', 'ldap_server_co', 'ldap_server']) await db.schema.dropTable(table).execute();
  await db.schema.alterTable('ldap_entry_claim').dropColumn('add_pending').execute();
}
