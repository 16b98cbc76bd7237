// Reads one COmanage Registry v4 database (PostgreSQL or MySQL/MariaDB, both of which COmanage
// supports) through Kysely. Only current rows are read: `deleted` not true and no parent id (see
// comanage-tables.ts); every query is scoped by the CO being imported.
import { sql, type Kysely } from 'kysely';
import { maskUrl, openComanage } from '../../core/sources/comanage-sql/comanage-connection.ts';
import type {
  CmCo, CmCoGroup, CmCoGroupMember, CmCoLdapProvisionerDn, CmCoLdapProvisionerTarget, CmCoPerson, CmCoService, CmCoServiceToken,
  CmCoServiceTokenSetting, CmEmailAddress, CmHistoryRecord, CmIdentifier, CmName, CmPassword, ComanageDatabase, OptionalTable,
} from './comanage-tables.ts';
import { OPTIONAL_TABLES, REQUIRED_TABLES } from './comanage-tables.ts';

/** A problem with the COmanage database itself (wrong URL, unreachable, tables missing): nothing is imported. */
export class ComanageSourceError extends Error {
  override name = 'ComanageSourceError';
}

/** Everything current of one COmanage CO. */
export interface ComanageSnapshot {
  co: CmCo;
  people: CmCoPerson[];
  names: CmName[];
  identifiers: CmIdentifier[];
  emails: CmEmailAddress[];
  groups: CmCoGroup[];
  members: CmCoGroupMember[];
  services: CmCoService[];
  history: CmHistoryRecord[];
  tokenSettings: CmCoServiceTokenSetting[];
  tokens: CmCoServiceToken[];
  passwords: CmPassword[];
  /** Which CO Services (current, of this CO) use each password authenticator: [password_authenticator_id, co_service_id]. */
  passwordServices: Array<{ password_authenticator_id: number; co_service_id: number }>;
  ldapTargets: CmCoLdapProvisionerTarget[];
  ldapDns: CmCoLdapProvisionerDn[];
}

export interface ComanageReader {
  /** `postgres` or `mysql`. */
  dialect: 'postgres' | 'mysql';
  /** `host:port/database` of the COmanage database: the installation the import map is scoped by. */
  installation: string;
  /** The plugin tables present (history, tokens, passwords, LDAP DNs). */
  present: ReadonlySet<OptionalTable>;
  listCos(): Promise<CmCo[]>;
  readCo(coId: number): Promise<ComanageSnapshot>;
  close(): Promise<void>;
}

/**
 * Opens the COmanage database at `url` (`postgres[ql]://…` or `mysql://…`/`mariadb://…`), checks
 * that it answers and holds COmanage's core tables. Throws ComanageSourceError naming the problem:
 * an unsupported URL, a connection failure, or the missing tables.
 */
export async function openComanageReader(url: string): Promise<ComanageReader> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ComanageSourceError('--database-url is not a URL; give postgres://user:pass@host:port/registry or mysql://user:pass@host:port/registry');
  }
  const protocol = parsed.protocol.replace(/:$/, '');
  const dialect = protocol === 'postgres' || protocol === 'postgresql' ? 'postgres' : protocol === 'mysql' || protocol === 'mariadb' ? 'mysql' : null;
  if (!dialect) throw new ComanageSourceError(`unsupported database URL scheme "${protocol}:"; COmanage Registry runs on PostgreSQL (postgres://) or MySQL/MariaDB (mysql://)`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new ComanageSourceError('the database URL names no database (…/registry)');
  // The same connection as a COmanage SQL source: timestamps as text (UTC in COmanage; isoOf reads them so).
  const { db } = await openComanage<ComanageDatabase>(url);
  let tables: Set<string>;
  try {
    const schema = dialect === 'postgres' ? sql`current_schema()` : sql`database()`;
    const rows = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${schema}`.execute(db);
    tables = new Set(rows.rows.map((r) => String(r.name).toLowerCase()));
  } catch (error) {
    await db.destroy().catch(() => {});
    throw new ComanageSourceError(`cannot read the COmanage database at ${maskUrl(url)}: ${(error as Error).message}`);
  }
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (missing.length > 0) {
    await db.destroy();
    throw new ComanageSourceError(`${maskUrl(url)} is not a COmanage Registry v4 database: the table(s) ${missing.join(', ')} are missing (tables with another prefix than cm_ are not supported)`);
  }
  const present = new Set(OPTIONAL_TABLES.filter((t) => tables.has(t)));
  return {
    dialect,
    installation: `${parsed.hostname}:${parsed.port || (dialect === 'postgres' ? 5432 : 3306)}/${database}`,
    present,
    listCos: () => db.selectFrom('cm_cos').selectAll().orderBy('id').execute(),
    readCo: (coId) => readCo(db, present, coId),
    close: () => db.destroy(),
  };
}

async function readCo(db: Kysely<ComanageDatabase>, present: ReadonlySet<OptionalTable>, coId: number): Promise<ComanageSnapshot> {
  const co = await db.selectFrom('cm_cos').selectAll().where('id', '=', coId).executeTakeFirst();
  if (!co) throw new ComanageSourceError(`the COmanage database has no CO with id ${coId}`);
  const people = await db.selectFrom('cm_co_people').selectAll().where('co_id', '=', coId).where('co_person_id', 'is', null).where((eb) => eb.or([eb('deleted', '=', false), eb('deleted', 'is', null)])).orderBy('id').execute();
  const names = await db.selectFrom('cm_names as r').innerJoin('cm_co_people as p', 'p.id', 'r.co_person_id').selectAll('r')
    .where('p.co_id', '=', coId).where('p.co_person_id', 'is', null).where((eb) => eb.or([eb('p.deleted', '=', false), eb('p.deleted', 'is', null)]))
    .where('r.name_id', 'is', null).where((eb) => eb.or([eb('r.deleted', '=', false), eb('r.deleted', 'is', null)])).orderBy('r.id').execute();
  const identifiers = await db.selectFrom('cm_identifiers as r').innerJoin('cm_co_people as p', 'p.id', 'r.co_person_id').selectAll('r')
    .where('p.co_id', '=', coId).where('p.co_person_id', 'is', null).where((eb) => eb.or([eb('p.deleted', '=', false), eb('p.deleted', 'is', null)]))
    .where('r.identifier_id', 'is', null).where((eb) => eb.or([eb('r.deleted', '=', false), eb('r.deleted', 'is', null)])).orderBy('r.id').execute();
  const emails = await db.selectFrom('cm_email_addresses as r').innerJoin('cm_co_people as p', 'p.id', 'r.co_person_id').selectAll('r')
    .where('p.co_id', '=', coId).where('p.co_person_id', 'is', null).where((eb) => eb.or([eb('p.deleted', '=', false), eb('p.deleted', 'is', null)]))
    .where('r.email_address_id', 'is', null).where((eb) => eb.or([eb('r.deleted', '=', false), eb('r.deleted', 'is', null)])).orderBy('r.id').execute();
  const groups = await db.selectFrom('cm_co_groups').selectAll().where('co_id', '=', coId).where('co_group_id', 'is', null).where((eb) => eb.or([eb('deleted', '=', false), eb('deleted', 'is', null)])).orderBy('id').execute();
  const members = await db.selectFrom('cm_co_group_members as r').innerJoin('cm_co_groups as g', 'g.id', 'r.co_group_id').selectAll('r')
    .where('g.co_id', '=', coId).where('g.co_group_id', 'is', null).where((eb) => eb.or([eb('g.deleted', '=', false), eb('g.deleted', 'is', null)]))
    .where('r.co_group_member_id', 'is', null).where((eb) => eb.or([eb('r.deleted', '=', false), eb('r.deleted', 'is', null)])).orderBy('r.id').execute();
  const services = await db.selectFrom('cm_co_services').selectAll().where('co_id', '=', coId).where('co_service_id', 'is', null).where((eb) => eb.or([eb('deleted', '=', false), eb('deleted', 'is', null)])).orderBy('id').execute();
  const serviceIds = services.map((s) => s.id);
  const history = present.has('cm_history_records')
    ? await db.selectFrom('cm_history_records as h').innerJoin('cm_co_people as p', 'p.id', 'h.co_person_id')
        .select(['h.id', 'h.co_person_id', 'h.co_group_id', 'h.co_service_id', 'h.actor_co_person_id', 'h.action', 'h.comment', 'h.created', 'h.history_record_id', 'h.deleted', 'h.actor_identifier'])
        .where('p.co_id', '=', coId).where('p.co_person_id', 'is', null).where('h.history_record_id', 'is', null).where((eb) => eb.or([eb('h.deleted', '=', false), eb('h.deleted', 'is', null)])).orderBy('h.id').execute()
    : [];
  const tokenSettings = present.has('cm_co_service_token_settings') && serviceIds.length > 0
    ? await db.selectFrom('cm_co_service_token_settings').selectAll().where('co_service_id', 'in', serviceIds).orderBy('id').execute() : [];
  const tokens = present.has('cm_co_service_tokens') && serviceIds.length > 0
    ? await db.selectFrom('cm_co_service_tokens as t').innerJoin('cm_co_people as p', 'p.id', 't.co_person_id').selectAll('t')
        .where('p.co_id', '=', coId).where('t.co_service_id', 'in', serviceIds).orderBy('t.id').execute() : [];
  const passwords = present.has('cm_passwords')
    ? await db.selectFrom('cm_passwords as r').innerJoin('cm_co_people as p', 'p.id', 'r.co_person_id').selectAll('r')
        .where('p.co_id', '=', coId).where('r.password_id', 'is', null).where((eb) => eb.or([eb('r.deleted', '=', false), eb('r.deleted', 'is', null)])).orderBy('r.id').execute()
    : [];
  const passwordServices = present.has('cm_password_authenticators')
    ? await db.selectFrom('cm_password_authenticators as pa').innerJoin('cm_co_services as s', 's.authenticator_id', 'pa.authenticator_id')
        .select(['pa.id as password_authenticator_id', 's.id as co_service_id']).where('s.co_id', '=', coId).where('s.co_service_id', 'is', null)
        .where((eb) => eb.or([eb('s.deleted', '=', false), eb('s.deleted', 'is', null)])).orderBy('pa.id').orderBy('s.id').execute()
    : [];
  const ldapTargets = present.has('cm_co_ldap_provisioner_targets') && present.has('cm_co_provisioning_targets')
    ? await db.selectFrom('cm_co_ldap_provisioner_targets as l').innerJoin('cm_co_provisioning_targets as t', 't.id', 'l.co_provisioning_target_id')
        .select(['l.id', 'l.co_provisioning_target_id', 'l.serverurl', 'l.basedn', 'l.dn_attribute_name', 'l.dn_identifier_type']).where('t.co_id', '=', coId).orderBy('l.id').execute()
    : [];
  const ldapDns = present.has('cm_co_ldap_provisioner_dns') && ldapTargets.length > 0
    ? await db.selectFrom('cm_co_ldap_provisioner_dns').selectAll().where('co_ldap_provisioner_target_id', 'in', ldapTargets.map((t) => t.id)).where('co_person_id', 'is not', null).orderBy('id').execute()
    : [];
  return { co, people, names, identifiers, emails, groups, members, services, history, tokenSettings, tokens, passwords, passwordServices, ldapTargets, ldapDns };
}
