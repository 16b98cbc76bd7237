// A COmanage Registry v4 database for tests, on PostgreSQL or MariaDB. The columns are those of
// COmanage's schema files (Internet2/comanage-registry 4.x, read with the search tools):
// app/Config/Schema/schema.xml, the CoServiceToken plugin's Config/Schema/schema.xml (before
// commit 94d9795d removed it), PasswordAuthenticator's and LdapProvisioner's. Types are ADOdb's
// (I integer, C varchar(n), T timestamp/datetime, D date, L boolean/tinyint(1), X text), mapped
// as ADOdb maps them on each database.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createConnection } from 'mysql2/promise';

const TABLES: Record<string, string> = {
  cm_cos: 'id:I name:C128 description:C128 status:C2 created:T modified:T',
  cm_co_people: 'id:I co_id:I status:C2 date_of_birth:D timezone:C80 created:T modified:T co_person_id:I revision:I deleted:L actor_identifier:C256',
  cm_names: 'id:I honorific:C32 given:C128 middle:C128 family:C128 suffix:C32 type:C32 language:C16 co_person_id:I org_identity_id:I primary_name:L source_name_id:I created:T modified:T name_id:I revision:I deleted:L actor_identifier:C256',
  cm_identifiers: 'id:I identifier:C512 type:C32 login:L status:C2 language:C16 co_person_id:I org_identity_id:I co_department_id:I co_group_id:I organization_id:I source_identifier_id:I co_provisioning_target_id:I created:T modified:T identifier_id:I revision:I deleted:L actor_identifier:C256',
  cm_email_addresses: 'id:I mail:C256 description:C128 type:C32 verified:L co_person_id:I org_identity_id:I co_department_id:I organization_id:I source_email_address_id:I created:T modified:T email_address_id:I revision:I deleted:L actor_identifier:C256',
  cm_co_groups: 'id:I co_id:I cou_id:I name:C128 description:C256 introduction:X4000 open:L status:C2 group_type:C2 auto:L nesting_mode_all:L created:T modified:T co_group_id:I revision:I deleted:L actor_identifier:C256',
  cm_co_group_members: 'id:I co_group_id:I co_person_id:I member:L owner:L valid_from:T valid_through:T source_org_identity_id:I co_group_nesting_id:I created:T modified:T co_group_member_id:I revision:I deleted:L actor_identifier:C256',
  cm_co_services: 'id:I co_id:I cou_id:I name:C128 description:C128 short_label:C32 co_group_id:I cluster_id:I service_url:C256 service_label:C1024 contact_email:C128 logo_url:C512 entitlement_uri:C256 visibility:C2 identifier_type:C32 authenticator_id:I status:C2 created:T modified:T co_service_id:I revision:I deleted:L actor_identifier:C256',
  cm_history_records: 'id:I co_person_id:I co_person_role_id:I org_identity_id:I co_group_id:I co_email_list_id:I co_service_id:I actor_co_person_id:I actor_api_user_id:I action:C4 comment:C256 created:T modified:T history_record_id:I revision:I deleted:L actor_identifier:C256',
  cm_authenticators: 'id:I co_id:I description:C256 plugin:C32 status:C2 co_message_template_id:I created:T modified:T',
  cm_password_authenticators: 'id:I authenticator_id:I password_source:C2 min_length:I max_length:I format_crypt_php:L format_plaintext:L format_sha1_ldap:L created:T modified:T',
  cm_co_provisioning_targets: 'id:I co_id:I description:C256 plugin:C32 provision_co_group_id:I skip_org_identity_source_id:I status:C2 retry_interval:I max_retry:I ordr:I created:T modified:T',
  cm_co_service_token_settings: 'id:I co_service_id:I enabled:L token_type:C64 created:T modified:T',
  cm_co_service_tokens: 'id:I co_service_id:I co_person_id:I token:C64 token_type:C2 created:T modified:T',
  cm_passwords: 'id:I password_authenticator_id:I co_person_id:I password:C256 password_type:C2 created:T modified:T password_id:I revision:I deleted:L actor_identifier:C256',
  cm_co_ldap_provisioner_targets: 'id:I co_provisioning_target_id:I serverurl:C256 binddn:C128 password:C64 basedn:C128 dn_attribute_name:C32 dn_identifier_type:C32 group_basedn:C128 person_ocs:C256 group_ocs:C256 attr_opts:L scope_suffix:C128 unconf_attr_mode:C2 oc_eduperson:L oc_edumember:L oc_groupofnames:L oc_posixaccount:L oc_posixgroup:L oc_voposixaccount:L oc_voposixgroup:L cluster_id:I oc_ldappublickey:L oc_voperson:L created:T modified:T',
  cm_co_ldap_provisioner_dns: 'id:I co_ldap_provisioner_target_id:I co_person_id:I co_group_id:I dn:C256 created:T modified:T',
};

/** The core tables alone (no plugin tables), for "an installation without those plugins". */
export const CORE_TABLE_NAMES = ['cm_cos', 'cm_co_people', 'cm_names', 'cm_identifiers', 'cm_email_addresses', 'cm_co_groups', 'cm_co_group_members', 'cm_co_services', 'cm_history_records', 'cm_co_provisioning_targets'];

function ddl(table: string, spec: string, mysql: boolean): string {
  const columns = spec.split(' ').map((field) => {
    const [name, type] = field.split(':') as [string, string];
    const size = type.slice(1);
    const sqlType = name === 'id' ? (mysql ? 'integer auto_increment primary key' : 'serial primary key')
      : type[0] === 'I' ? 'integer' : type[0] === 'C' ? `varchar(${size})` : type[0] === 'T' ? (mysql ? 'datetime' : 'timestamp') : type[0] === 'D' ? 'date' : type[0] === 'L' ? (mysql ? 'tinyint(1)' : 'boolean') : 'text';
    return `${mysql ? `\`${name}\`` : `"${name}"`} ${sqlType}`;
  });
  return `create table ${table} (${columns.join(', ')})${mysql ? ' default charset=utf8mb4' : ''}`;
}

/** A connection to the COmanage test database that runs `?`-placeholder SQL on either server. */
export interface ComanageDb {
  query(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  insert(table: string, rows: Array<Record<string, unknown>>): Promise<void>;
  close(): Promise<void>;
}

/** Connects to the COmanage test database at `url` (postgres:// or mysql://). */
export async function connectComanage(url: string): Promise<ComanageDb> {
  if (url.startsWith('mysql')) {
    const c = await createConnection(url);
    const query = async (text: string, values: unknown[] = []) => {
      const [rows] = await c.query(text, values);
      return Array.isArray(rows) ? rows.map((r) => ({ ...r })) : [];
    };
    return { query, insert: (t, rows) => insertRows(query, t, rows, true), close: () => c.end() };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const query = async (text: string, values: unknown[] = []) => {
    let n = 0;
    return (await c.query(text.replace(/\?/g, () => `$${++n}`), values)).rows;
  };
  return { query, insert: (t, rows) => insertRows(query, t, rows, false), close: () => c.end() };
}

async function insertRows(query: ComanageDb['query'], table: string, rows: Array<Record<string, unknown>>, mysql: boolean): Promise<void> {
  for (const row of rows) {
    const keys = Object.keys(row);
    await query(`insert into ${table} (${keys.map((k) => (mysql ? `\`${k}\`` : `"${k}"`)).join(', ')}) values (${keys.map(() => '?').join(', ')})`, keys.map((k) => row[k]));
  }
}

/** Creates COmanage's tables (all of them, or `only` these) in the empty database at `url`. */
export async function createComanageSchema(url: string, only?: readonly string[]): Promise<void> {
  const db = await connectComanage(url);
  try {
    for (const [table, spec] of Object.entries(TABLES)) if (!only || only.includes(table)) await db.query(ddl(table, spec, url.startsWith('mysql')));
  } finally {
    await db.close();
  }
}

/** A PasswordAuthenticator SH value: base64(SHA-1(password . salt) . salt) with a 4-character salt, as its Model/PasswordAuthenticator.php makes it. */
export function comanageSsha(password: string): string {
  const salt = randomBytes(8).toString('hex').slice(0, 4);
  return Buffer.concat([createHash('sha1').update(password + salt).digest(), Buffer.from(salt)]).toString('base64');
}

/** php's password_hash('rasmuslerdorf', PASSWORD_DEFAULT) from the PHP manual's password_verify example (bcrypt). */
export const PHP_MANUAL_BCRYPT = { password: 'rasmuslerdorf', hash: '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a' };
