// SQL of LDAP servers (platform objects), their assignment to COs, and the adopt switch of LDAP
// targets. Rows are mapped to domain objects here; the bind password stays sealed in them.
import type { Kysely, Transaction } from 'kysely';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { LdapProvisionerTables, LdapServerTable } from './ldap-entry-claim.table.ts';

export type LdapDb = Kysely<CoreDatabase & LdapProvisionerTables> | Transaction<CoreDatabase & LdapProvisionerTables>;

/** An LDAP server as stored; `sealedBindPassword` is SecretBox ciphertext. */
export interface StoredLdapServer {
  id: string;
  name: string;
  url: string;
  startTls: boolean;
  tlsCaCertificates: string[];
  tlsVerifyHostname: boolean;
  bindDn: string;
  sealedBindPassword: string;
  subtrees: string[];
  createdAt: string;
  updatedAt: string;
}

function stringList(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toServer(row: LdapServerTable): StoredLdapServer {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    startTls: row.start_tls === 1,
    tlsCaCertificates: stringList(row.tls_ca_certificates),
    tlsVerifyHostname: row.tls_verify_hostname === 1,
    bindDn: row.bind_dn,
    sealedBindPassword: row.bind_password,
    subtrees: stringList(row.subtrees),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRow(server: StoredLdapServer): LdapServerTable {
  return {
    id: server.id,
    name: server.name,
    url: server.url,
    start_tls: server.startTls ? 1 : 0,
    tls_ca_certificates: JSON.stringify(server.tlsCaCertificates),
    tls_verify_hostname: server.tlsVerifyHostname ? 1 : 0,
    bind_dn: server.bindDn,
    bind_password: server.sealedBindPassword,
    subtrees: JSON.stringify(server.subtrees),
    created_at: server.createdAt,
    updated_at: server.updatedAt,
  };
}

export async function listStoredServers(db: LdapDb): Promise<StoredLdapServer[]> {
  return (await db.selectFrom('ldap_server').selectAll().orderBy('name').execute()).map(toServer);
}

export async function findStoredServer(db: LdapDb, id: string): Promise<StoredLdapServer | undefined> {
  const row = await db.selectFrom('ldap_server').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toServer(row) : undefined;
}

/** The server if it is assigned to the CO; undefined otherwise (or when it does not exist). */
export async function findAssignedServer(db: LdapDb, coId: string, id: string): Promise<StoredLdapServer | undefined> {
  const row = await db
    .selectFrom('ldap_server')
    .innerJoin('ldap_server_co', 'ldap_server_co.server_id', 'ldap_server.id')
    .selectAll('ldap_server')
    .where('ldap_server_co.co_id', '=', coId)
    .where('ldap_server.id', '=', id)
    .executeTakeFirst();
  return row ? toServer(row) : undefined;
}

/** The servers assigned to the CO, by name. */
export async function serversOfCo(db: LdapDb, coId: string): Promise<StoredLdapServer[]> {
  const rows = await db.selectFrom('ldap_server').innerJoin('ldap_server_co', 'ldap_server_co.server_id', 'ldap_server.id').selectAll('ldap_server').where('ldap_server_co.co_id', '=', coId).orderBy('ldap_server.name').execute();
  return rows.map(toServer);
}

export async function insertStoredServer(db: LdapDb, server: StoredLdapServer): Promise<void> {
  await db.insertInto('ldap_server').values(toRow(server)).execute();
}

export async function updateStoredServer(db: LdapDb, server: StoredLdapServer): Promise<void> {
  const { id: _id, created_at: _created, ...rest } = toRow(server);
  await db.updateTable('ldap_server').set(rest).where('id', '=', server.id).execute();
}

export async function deleteStoredServer(db: LdapDb, id: string): Promise<void> {
  await db.deleteFrom('ldap_server').where('id', '=', id).execute();
}

/** Ids of the COs the server is assigned to. */
export async function coIdsOfServer(db: LdapDb, serverId: string): Promise<string[]> {
  return (await db.selectFrom('ldap_server_co').select('co_id').where('server_id', '=', serverId).execute()).map((r) => r.co_id);
}

/** Assigns the server to the CO; false when it was already. */
export async function insertAssignment(db: LdapDb, serverId: string, coId: string, now: string): Promise<boolean> {
  const existing = await db.selectFrom('ldap_server_co').select('co_id').where('server_id', '=', serverId).where('co_id', '=', coId).executeTakeFirst();
  if (existing) return false;
  await db.insertInto('ldap_server_co').values({ server_id: serverId, co_id: coId, assigned_at: now }).execute();
  return true;
}

export async function deleteAssignment(db: LdapDb, serverId: string, coId: string): Promise<boolean> {
  const result = await db.deleteFrom('ldap_server_co').where('server_id', '=', serverId).where('co_id', '=', coId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The LDAP targets (id, CO, description, raw settings JSON) of every CO, or of one CO. */
export async function ldapTargetRows(db: LdapDb, coId?: string): Promise<Array<{ id: string; co_id: string; description: string; config: string }>> {
  let q = db.selectFrom('provisioning_target').select(['id', 'co_id', 'description', 'config']).where('provisioner_type', '=', 'ldap');
  if (coId !== undefined) q = q.where('co_id', '=', coId);
  return q.orderBy('description').execute();
}

/** Whether a platform admin let the target adopt existing entries, and who and when. */
export async function findAdoption(db: LdapDb, targetId: string): Promise<{ setBy: string; setAt: string } | undefined> {
  const row = await db.selectFrom('ldap_target_adoption').selectAll().where('target_id', '=', targetId).executeTakeFirst();
  return row ? { setBy: row.set_by, setAt: row.set_at } : undefined;
}

export async function setAdoptionRow(db: LdapDb, targetId: string, on: boolean, setBy: string, now: string): Promise<void> {
  await db.deleteFrom('ldap_target_adoption').where('target_id', '=', targetId).execute();
  if (on) await db.insertInto('ldap_target_adoption').values({ target_id: targetId, set_by: setBy, set_at: now }).execute();
}
