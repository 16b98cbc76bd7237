/*
 * Where COmanage Registry's SqlProvisioner writes, per layout, after the configurable table prefix
 * (`sp_` by default: CoSqlProvisionerTarget.php, "table_prefix").
 *
 * v4 — app/AvailablePlugin/SqlProvisioner/Config/Schema/schema-target.xml of
 * Internet2/comanage-registry (4.6.1): co_people (id, status, …, modified), names (co_person_id,
 * given, middle, family, suffix, type, primary_name), identifiers (co_person_id, identifier, type,
 * login, status), email_addresses (co_person_id, mail, type, verified), co_person_roles
 * (co_person_id, status, valid_from, valid_through), co_groups (id, cou_id, name, description,
 * status, group_type), co_group_members (co_group_id, co_person_id, member, owner, valid_from,
 * valid_through); every table has `created` and `modified`. A person deleted in COmanage is
 * deleted from these tables (deletePerson), so absence means removal.
 *
 * v5 (Registry PE, SqlConnector's target schema: availableplugins/SqlConnector/config/plugin.json
 * of cilogon/registry) — tables without the `co_` prefix (people, groups, group_members,
 * person_roles), `person_id`/`group_id` foreign keys, and types by reference: `type_id` → types.id,
 * whose `value` is the type's name (official, uid, eppn, …). That file could not be read where
 * this connector was written; these names follow Registry PE's models and are checked against the
 * database at every run (a missing table or column is a clear error, nothing is written).
 */

export type LayoutName = 'v4' | 'v5';

/** The physical names of one layout (without the prefix). */
export interface Layout {
  name: LayoutName;
  people: string;
  names: string;
  identifiers: string;
  emails: string;
  roles: string;
  groups: string;
  members: string;
  /** v5 only: the types table `type_id` columns refer to. */
  types?: string;
  /** The person foreign key in names, identifiers, emails, roles and members. */
  personFk: string;
  /** The group foreign key in members. */
  groupFk: string;
  /** `type` (v4: the type's name) or `type_id` (v5: → types.id). */
  typeColumn: string;
  /** Whether members rows carry `member` and `owner` flags (v4). */
  memberFlags: boolean;
}

export const LAYOUTS: Record<LayoutName, Layout> = {
  v4: {
    name: 'v4', people: 'co_people', names: 'names', identifiers: 'identifiers', emails: 'email_addresses', roles: 'co_person_roles',
    groups: 'co_groups', members: 'co_group_members', personFk: 'co_person_id', groupFk: 'co_group_id', typeColumn: 'type', memberFlags: true,
  },
  v5: {
    name: 'v5', people: 'people', names: 'names', identifiers: 'identifiers', emails: 'email_addresses', roles: 'person_roles',
    groups: 'groups', members: 'group_members', types: 'types', personFk: 'person_id', groupFk: 'group_id', typeColumn: 'type_id', memberFlags: false,
  },
};

/** The columns each table must have, by logical table; checked before a run reads anything. */
export function requiredColumns(layout: Layout): Array<{ table: string; columns: string[] }> {
  const p = layout.personFk;
  const t = layout.typeColumn;
  return [
    { table: layout.people, columns: ['id', 'status', 'modified'] },
    { table: layout.names, columns: [p, 'given', 'middle', 'family', 'suffix', t, 'primary_name', 'modified'] },
    { table: layout.identifiers, columns: [p, 'identifier', t, 'login', 'status', 'modified'] },
    { table: layout.emails, columns: [p, 'mail', t, 'verified', 'modified'] },
    { table: layout.roles, columns: [p, 'status', 'valid_from', 'valid_through', 'modified'] },
    { table: layout.groups, columns: ['id', 'cou_id', 'name', 'description', 'status', 'group_type', 'modified'] },
    { table: layout.members, columns: ['id', layout.groupFk, p, 'valid_from', 'valid_through', 'modified', ...(layout.memberFlags ? ['member', 'owner'] : [])] },
    ...(layout.types ? [{ table: layout.types, columns: ['id', 'value'] }] : []),
  ];
}
