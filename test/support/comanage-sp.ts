// A COmanage-shaped SqlProvisioner target for tests, on PostgreSQL or MariaDB. The tables are
// written here from COmanage Registry's own schema: v4 from
// app/AvailablePlugin/SqlProvisioner/Config/Schema/schema-target.xml (Internet2/comanage-registry
// 4.6.1; ADOdb types I integer, C varchar, L boolean, T timestamp, D date), v5 as described in
// src/core/sources/comanage-sql/comanage-layout.ts. Codes from app/Lib/enum.php.
import { sql, type Kysely } from 'kysely';
import { openComanage, type ComanageConnection } from '../../src/core/sources/comanage-sql/comanage-connection.ts';

type Col = [name: string, type: 'I' | 'C' | 'L' | 'T' | 'D' | 'X', size?: number];
const STAMPS: Col[] = [['created', 'T'], ['modified', 'T']];

const V4: Record<string, Col[]> = {
  co_people: [['id', 'I'], ['status', 'C', 2], ['date_of_birth', 'D'], ['timezone', 'C', 80], ...STAMPS],
  names: [['id', 'I'], ['co_person_id', 'I'], ['honorific', 'C', 32], ['given', 'C', 128], ['middle', 'C', 128], ['family', 'C', 128], ['suffix', 'C', 32], ['type', 'C', 32], ['language', 'C', 16], ['primary_name', 'L'], ['org_identity_source_id', 'I'], ...STAMPS],
  identifiers: [['id', 'I'], ['co_person_id', 'I'], ['identifier', 'C', 256], ['type', 'C', 32], ['login', 'L'], ['status', 'C', 2], ['org_identity_source_id', 'I'], ...STAMPS],
  email_addresses: [['id', 'I'], ['co_person_id', 'I'], ['mail', 'C', 256], ['description', 'C', 128], ['type', 'C', 32], ['verified', 'L'], ['org_identity_source_id', 'I'], ...STAMPS],
  co_person_roles: [['id', 'I'], ['co_person_id', 'I'], ['sponsor_co_person_id', 'I'], ['cou_id', 'I'], ['affiliation', 'C', 32], ['title', 'C', 128], ['o', 'C', 128], ['ou', 'C', 128], ['valid_from', 'T'], ['valid_through', 'T'], ['ordr', 'I'], ['status', 'C', 2], ['org_identity_source_id', 'I'], ...STAMPS],
  co_groups: [['id', 'I'], ['cou_id', 'I'], ['name', 'C', 128], ['description', 'C', 256], ['open', 'L'], ['status', 'C', 2], ['group_type', 'C', 2], ['auto', 'L'], ...STAMPS],
  co_group_members: [['id', 'I'], ['co_group_id', 'I'], ['co_person_id', 'I'], ['member', 'L'], ['owner', 'L'], ['valid_from', 'T'], ['valid_through', 'T'], ['org_identity_source_id', 'I'], ...STAMPS],
};

const V5: Record<string, Col[]> = {
  people: [['id', 'I'], ['status', 'C', 2], ['date_of_birth', 'D'], ['timezone', 'C', 80], ...STAMPS],
  types: [['id', 'I'], ['attribute', 'C', 32], ['display_name', 'C', 64], ['value', 'C', 32], ['status', 'C', 2], ...STAMPS],
  names: [['id', 'I'], ['person_id', 'I'], ['honorific', 'C', 32], ['given', 'C', 128], ['middle', 'C', 128], ['family', 'C', 128], ['suffix', 'C', 32], ['type_id', 'I'], ['language', 'C', 16], ['primary_name', 'L'], ...STAMPS],
  identifiers: [['id', 'I'], ['person_id', 'I'], ['identifier', 'C', 512], ['type_id', 'I'], ['login', 'L'], ['status', 'C', 2], ...STAMPS],
  email_addresses: [['id', 'I'], ['person_id', 'I'], ['mail', 'C', 256], ['description', 'C', 128], ['type_id', 'I'], ['verified', 'L'], ...STAMPS],
  person_roles: [['id', 'I'], ['person_id', 'I'], ['cou_id', 'I'], ['title', 'C', 128], ['valid_from', 'T'], ['valid_through', 'T'], ['status', 'C', 2], ...STAMPS],
  groups: [['id', 'I'], ['cou_id', 'I'], ['name', 'C', 128], ['description', 'C', 256], ['open', 'L'], ['status', 'C', 2], ['group_type', 'C', 2], ...STAMPS],
  group_members: [['id', 'I'], ['group_id', 'I'], ['person_id', 'I'], ['valid_from', 'T'], ['valid_through', 'T'], ...STAMPS],
};

function columnType(dialect: 'postgres' | 'mysql', [, type, size]: Col): string {
  switch (type) {
    case 'I': return 'integer';
    case 'C': return `varchar(${size ?? 255})`;
    case 'L': return dialect === 'postgres' ? 'boolean' : 'tinyint(1)';
    case 'T': return dialect === 'postgres' ? 'timestamp without time zone' : 'datetime';
    case 'D': return 'date';
    case 'X': return 'text';
  }
}

/** Creates the SqlProvisioner target tables of a layout under a prefix, as the provisioner would. */
export async function createSpTables(conn: ComanageConnection, layout: 'v4' | 'v5', prefix = 'sp_', skip: string[] = []): Promise<void> {
  for (const [table, cols] of Object.entries(layout === 'v4' ? V4 : V5)) {
    if (skip.includes(table)) continue;
    const defs = cols.map((c) => sql.raw(`${c[0]} ${columnType(conn.dialect, c)}${c[0] === 'id' ? ' primary key' : ''}`));
    await sql`create table ${sql.table(`${prefix}${table}`)} (${sql.join(defs)})`.execute(conn.db);
  }
}

/** Inserts rows into a prefixed table. */
export async function insertSp(db: Kysely<unknown>, table: string, rows: Array<Record<string, unknown>>, prefix = 'sp_'): Promise<void> {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const values = rows.map((r) => sql`(${sql.join(cols.map((c) => sql`${r[c] ?? null}`))})`);
  await sql`insert into ${sql.table(`${prefix}${table}`)} (${sql.join(cols.map((c) => sql.ref(c)))}) values ${sql.join(values)}`.execute(db);
}

/** A timestamp as COmanage stores it: UTC, `YYYY-MM-DD HH:MM:SS`, `days` from `now`. */
export function spTime(now: Date, days = 0): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString().slice(0, 19).replace('T', ' ');
}

export { openComanage };

/**
 * The realistic v4 CO: people with every status (A, GP, S, XP, D, P), non-ASCII names, identifiers
 * with DN-special characters, an inactive identifier, a person whose only role expired,
 * memberships with windows in the past, present and future, an owner-only row, the CO's admins and
 * members groups, and a COU's admins group.
 */
export async function seedRealisticV4(db: Kysely<unknown>, now: Date, prefix = 'sp_'): Promise<void> {
  const at = spTime(now, -30);
  const stamp = { created: at, modified: at };
  const T = true;
  const F = false;
  const people: Array<[number, string]> = [[1, 'A'], [2, 'GP'], [3, 'S'], [4, 'XP'], [5, 'D'], [6, 'P'], [7, 'A'], [8, 'A']];
  await insertSp(db, 'co_people', people.map(([id, status]) => ({ id, status, ...stamp })), prefix);
  const names: Array<[number, string, string | null]> = [[1, 'Zoë', 'Ångström-Łukasiewicz'], [2, 'José', 'Núñez'], [3, 'Sam', 'Ö\'Brien'], [4, 'Eve', '李'], [5, 'Dan', 'Døssing'], [6, 'Pat', null], [7, 'Rolf', 'Müller'], [8, 'Ann', 'Ørsted']];
  await insertSp(db, 'names', names.map(([pid, given, family]) => ({ id: pid, co_person_id: pid, given, family, type: 'official', primary_name: T, ...stamp })), prefix);
  await insertSp(db, 'names', [{ id: 100, co_person_id: 1, given: 'Zoe', family: 'Angstrom', type: 'preferred', primary_name: F, ...stamp }], prefix);
  const ids: Array<[number, number, string, string, boolean, string]> = [
    [1, 1, 'zoe', 'uid', T, 'A'],
    [2, 1, 'zoe@example.org', 'eppn', F, 'A'],
    [3, 1, 'cn=Zoë, o="Acme"+x\\;y#<z>', 'network', F, 'A'],
    [4, 1, 'old-zoe', 'uid', F, 'S'],
    [5, 2, 'jose', 'uid', T, 'A'],
    [6, 3, 'sam', 'uid', T, 'A'],
    [7, 4, 'eve', 'uid', T, 'A'],
    [8, 5, 'dan', 'uid', T, 'A'],
    [9, 6, 'pat', 'uid', T, 'A'],
    [10, 7, 'rolf', 'uid', T, 'A'],
    [11, 8, 'ann', 'uid', T, 'A'],
    [12, 8, 'ann-sor-17', 'sor-hr', F, 'A'],
  ];
  await insertSp(db, 'identifiers', ids.map(([id, pid, identifier, type, login, status]) => ({ id, co_person_id: pid, identifier, type, login, status, ...stamp })), prefix);
  await insertSp(db, 'email_addresses', [
    { id: 1, co_person_id: 1, mail: 'zoe@example.org', type: 'official', verified: T, ...stamp },
    { id: 2, co_person_id: 2, mail: 'jose@example.org', type: 'official', verified: F, ...stamp },
  ], prefix);
  await insertSp(db, 'co_person_roles', [
    { id: 1, co_person_id: 7, affiliation: 'member', status: 'A', valid_from: spTime(now, -400), valid_through: spTime(now, -1), ...stamp },
    { id: 2, co_person_id: 8, affiliation: 'member', status: 'A', valid_from: spTime(now, -400), valid_through: null, ...stamp },
    { id: 3, co_person_id: 8, affiliation: 'staff', status: 'XP', valid_from: null, valid_through: spTime(now, -10), ...stamp },
  ], prefix);
  await insertSp(db, 'co_groups', [
    { id: 10, cou_id: null, name: 'CO:admins', description: 'Administrators', open: F, status: 'A', group_type: 'A', auto: F, ...stamp },
    { id: 11, cou_id: null, name: 'CO:members:active', description: 'Active members', open: F, status: 'A', group_type: 'MA', auto: T, ...stamp },
    { id: 12, cou_id: null, name: 'Physics Ω', description: 'Physicists', open: F, status: 'A', group_type: 'S', auto: F, ...stamp },
    { id: 13, cou_id: 5, name: 'CO:COU:Chemistry:admins', description: 'Chemistry admins', open: F, status: 'A', group_type: 'A', auto: F, ...stamp },
  ], prefix);
  await insertSp(db, 'co_group_members', [
    { id: 1, co_group_id: 10, co_person_id: 1, member: T, owner: F, valid_from: null, valid_through: null, ...stamp },
    { id: 2, co_group_id: 11, co_person_id: 1, member: T, owner: F, valid_from: null, valid_through: null, ...stamp },
    { id: 3, co_group_id: 12, co_person_id: 1, member: T, owner: T, valid_from: spTime(now, -5), valid_through: spTime(now, 30), ...stamp },
    { id: 4, co_group_id: 12, co_person_id: 2, member: T, owner: F, valid_from: spTime(now, 10), valid_through: null, ...stamp },
    { id: 5, co_group_id: 12, co_person_id: 8, member: T, owner: F, valid_from: spTime(now, -60), valid_through: spTime(now, -1), ...stamp },
    { id: 6, co_group_id: 12, co_person_id: 3, member: F, owner: T, valid_from: null, valid_through: null, ...stamp },
    { id: 7, co_group_id: 13, co_person_id: 8, member: T, owner: F, valid_from: null, valid_through: null, ...stamp },
  ], prefix);
}
