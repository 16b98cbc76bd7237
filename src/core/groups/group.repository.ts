import { sql } from 'kysely';
import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { countRows, type PageCount } from '../../db/count-rows.ts';
import { isId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import type { CoGroupMemberTable, CoGroupTable, GroupType } from './group.table.ts';

/** A CO Group: `standard` groups are made by admins; each CO has one `admins` and one automatic `members` group. */
export interface Group {
  id: string;
  coId: string;
  name: string;
  description: string;
  status: 'active' | 'suspended';
  type: GroupType;
  createdAt: string;
  /** The source that owns the group (src/core/sources/), absent when made in Tessera. */
  sourceId?: string | null;
}

/** A person's row in a group; `validFrom`/`validThrough` are ISO timestamps, null for unbounded. */
export interface Membership {
  id: string;
  groupId: string;
  personId: string;
  member: boolean;
  owner: boolean;
  validFrom: string | null;
  validThrough: string | null;
  /** The source that owns this membership row, absent when made in Tessera; both may exist for one person and group. */
  sourceId?: string | null;
}

const toGroup = (r: CoGroupTable): Group => ({
  id: r.id,
  coId: r.co_id,
  name: r.name,
  description: r.description,
  status: r.status,
  type: r.group_type,
  createdAt: r.created_at,
  ...(r.source_id ? { sourceId: r.source_id } : {}),
});
const toMembership = (r: CoGroupMemberTable): Membership => ({
  id: r.id,
  groupId: r.group_id,
  personId: r.person_id,
  member: r.member === 1,
  owner: r.owner === 1,
  validFrom: r.valid_from,
  validThrough: r.valid_through,
  ...(r.source_id ? { sourceId: r.source_id } : {}),
});

const groupNameTaken = () => new AppError(CORE_ERRORS.GROUP_NAME_TAKEN, { field: 'name' });

/** One group of the CO; undefined for a malformed id or another CO's group. */
export async function findGroup(db: Executor, coId: string, groupId: string): Promise<Group | undefined> {
  if (!isId(groupId)) return undefined;
  const row = await db.selectFrom('co_group').selectAll().where('co_id', '=', coId).where('id', '=', groupId).executeTakeFirst();
  return row && toGroup(row);
}

/** The CO's group of a system type (`admins`, `members`); every CO has exactly one of each. */
export async function findSystemGroup(db: Executor, coId: string, type: Exclude<GroupType, 'standard'>): Promise<Group | undefined> {
  const row = await db.selectFrom('co_group').selectAll().where('co_id', '=', coId).where('group_type', '=', type).executeTakeFirst();
  return row && toGroup(row);
}

/** Every group of the CO, by name. */
export async function listGroupsOfCo(db: Executor, coId: string): Promise<Group[]> {
  const rows = await db.selectFrom('co_group').selectAll().where('co_id', '=', coId).orderBy('name').execute();
  return rows.map(toGroup);
}

/** Inserts groups (each row carries its CO). A name the CO has already (`co_group_name_uq`) is GROUP_NAME_TAKEN (409, field `name`). */
export async function insertGroups(db: Executor, rows: CoGroupTable[]): Promise<void> {
  await mapUniqueViolation(db.insertInto('co_group').values(rows).execute(), groupNameTaken);
}

/** Changes a group of the CO; a name taken by another group is GROUP_NAME_TAKEN (409, field `name`). */
export async function updateGroupRow(db: Executor, coId: string, groupId: string, patch: Partial<Pick<CoGroupTable, 'name' | 'description' | 'status'>>): Promise<void> {
  await mapUniqueViolation(db.updateTable('co_group').set(patch).where('co_id', '=', coId).where('id', '=', groupId).execute(), groupNameTaken);
}

/** Deletes a group of the CO; its membership rows go with it (ON DELETE CASCADE). */
export async function deleteGroupRow(db: Executor, coId: string, groupId: string): Promise<void> {
  await db.deleteFrom('co_group').where('co_id', '=', coId).where('id', '=', groupId).execute();
}

/**
 * A page of the membership rows of a group of the CO, oldest first (then by id, so pages never
 * overlap), read on the index `co_group_member_group_created_idx`: `limit` rows after `offset`.
 */
export async function listMembershipRows(db: Executor, coId: string, groupId: string, page: { limit: number; offset: number }): Promise<Membership[]> {
  const rows = await db
    .selectFrom('co_group_member')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('co_id', '=', coId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map(toMembership);
}

/**
 * How many membership rows the group of the CO has. With `upTo`, counting stops past it and the
 * answer is `{ total: upTo, totalIsAtLeast: true }` (a page that says "more than 1,000" rather than
 * counting a million rows on every view).
 */
export async function countMembershipRows(db: Executor, coId: string, groupId: string, upTo?: number): Promise<PageCount> {
  const rows = db.selectFrom('co_group_member').select(sql<number>`1`.as('one')).where('group_id', '=', groupId).where('co_id', '=', coId);
  return countRows(db, rows, upTo);
}

/** Which of `personIds` have a membership row (any validity window) in the group of the CO. */
export async function peopleWithMembershipRow(db: Executor, coId: string, groupId: string, personIds: readonly string[]): Promise<Set<string>> {
  if (personIds.length === 0) return new Set();
  const rows = await db.selectFrom('co_group_member').select('person_id').where('group_id', '=', groupId).where('co_id', '=', coId).where('person_id', 'in', personIds).execute();
  return new Set(rows.map((r) => r.person_id));
}

/** The person's oldest membership row in the group of the CO (a source's row and a local one may both exist), or undefined. */
export async function findMembershipOfPerson(db: Executor, coId: string, groupId: string, personId: string): Promise<Membership | undefined> {
  const row = await db.selectFrom('co_group_member').selectAll().where('group_id', '=', groupId).where('co_id', '=', coId).where('person_id', '=', personId).orderBy('created_at').orderBy('id').executeTakeFirst();
  return row && toMembership(row);
}

/** One membership row of the group; undefined for a malformed id or a row of another group or CO. */
export async function findMembership(db: Executor, coId: string, groupId: string, membershipId: string): Promise<Membership | undefined> {
  if (!isId(membershipId)) return undefined;
  const row = await db.selectFrom('co_group_member').selectAll().where('co_id', '=', coId).where('group_id', '=', groupId).where('id', '=', membershipId).executeTakeFirst();
  return row && toMembership(row);
}

/** Inserts a membership row and returns it. The person in the group already (`co_group_member_uq`) is MEMBERSHIP_EXISTS (409, field `personId`). */
export async function insertMembership(db: Executor, row: CoGroupMemberTable): Promise<Membership> {
  await mapUniqueViolation(db.insertInto('co_group_member').values(row).execute(), () => new AppError(CORE_ERRORS.MEMBERSHIP_EXISTS, { field: 'personId' }));
  return toMembership(row);
}

/** Deletes one membership row of the CO. */
export async function deleteMembership(db: Executor, coId: string, membershipId: string): Promise<void> {
  await db.deleteFrom('co_group_member').where('co_id', '=', coId).where('id', '=', membershipId).execute();
}

/** Person ids of the group's membership rows (any validity window). */
export async function memberPersonIdsOfGroup(db: Executor, coId: string, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('co_group_member').select('person_id').where('co_id', '=', coId).where('group_id', '=', groupId).execute();
  return rows.map((r) => r.person_id);
}

/**
 * The active groups of the CO in which the person has a `member` row valid at `now`, by name. The
 * person's own status is not looked at here (see `currentGroupsOf`), nor the automatic members group.
 */
export async function groupsWithValidMembership(db: Executor, coId: string, personId: string, now: Date): Promise<Group[]> {
  const t = now.toISOString();
  const rows = await db
    .selectFrom('co_group as g')
    .innerJoin('co_group_member as m', 'm.group_id', 'g.id')
    .selectAll('g')
    .where('g.co_id', '=', coId)
    .where('m.person_id', '=', personId)
    .where('m.member', '=', 1)
    .where('g.status', '=', 'active')
    .where((eb) => eb.or([eb('m.valid_from', 'is', null), eb('m.valid_from', '<=', t)]))
    .where((eb) => eb.or([eb('m.valid_through', 'is', null), eb('m.valid_through', '>', t)]))
    // A person may hold a local and a source's membership of one group.
    .distinct()
    .orderBy('g.name')
    .execute();
  return rows.map(toGroup);
}

/**
 * `groupsWithValidMembership` for many people of one CO in one query: each person's active groups
 * holding a `member` row valid at `now`, by name; a person without any maps to an empty list.
 */
export async function groupsWithValidMembershipOfPeople(db: Executor, coId: string, personIds: readonly string[], now: Date): Promise<Map<string, Group[]>> {
  const out = new Map<string, Group[]>(personIds.map((id) => [id, []]));
  if (personIds.length === 0) return out;
  const t = now.toISOString();
  const rows = await db
    .selectFrom('co_group as g')
    .innerJoin('co_group_member as m', 'm.group_id', 'g.id')
    .selectAll('g')
    .select('m.person_id as member_person_id')
    .where('g.co_id', '=', coId)
    .where('m.person_id', 'in', [...personIds])
    .where('m.member', '=', 1)
    .where('g.status', '=', 'active')
    .where((eb) => eb.or([eb('m.valid_from', 'is', null), eb('m.valid_from', '<=', t)]))
    .where((eb) => eb.or([eb('m.valid_through', 'is', null), eb('m.valid_through', '>', t)]))
    .orderBy('g.name')
    .execute();
  for (const { member_person_id, ...group } of rows) out.get(member_person_id)?.push(toGroup(group));
  return out;
}

/** The CO's automatic members group, when it is active (a list: empty or one group). */
export async function activeMembersGroups(db: Executor, coId: string): Promise<Group[]> {
  const rows = await db.selectFrom('co_group').selectAll().where('co_id', '=', coId).where('group_type', '=', 'members').where('status', '=', 'active').execute();
  return rows.map(toGroup);
}

/** Every membership row of a person in the CO, including ones outside their validity window, by group name. */
export async function membershipsOfPerson(db: Executor, coId: string, personId: string): Promise<Array<Membership & { groupName: string }>> {
  const rows = await db
    .selectFrom('co_group_member as m')
    .innerJoin('co_group as g', 'g.id', 'm.group_id')
    .selectAll('m')
    .select('g.name as group_name')
    .where('m.co_id', '=', coId)
    .where('m.person_id', '=', personId)
    .orderBy('g.name')
    .execute();
  return rows.map((r) => ({ ...toMembership(r), groupName: r.group_name }));
}

/**
 * Ids of the COs whose active admins group holds one of these people with a `member` row valid at
 * `now`. Scoped by person ids (each belongs to one CO), since sign-in asks across COs.
 */
export async function adminCoIdsOf(db: Executor, personIds: string[], now: Date): Promise<Set<string>> {
  if (personIds.length === 0) return new Set();
  const t = now.toISOString();
  const rows = await db
    .selectFrom('co_group_member as m')
    .innerJoin('co_group as g', 'g.id', 'm.group_id')
    .select(['g.co_id'])
    .where('m.person_id', 'in', personIds)
    .where('g.group_type', '=', 'admins')
    .where('g.status', '=', 'active')
    .where('m.member', '=', 1)
    .where((eb) => eb.or([eb('m.valid_from', 'is', null), eb('m.valid_from', '<=', t)]))
    .where((eb) => eb.or([eb('m.valid_through', 'is', null), eb('m.valid_through', '>', t)]))
    .execute();
  return new Set(rows.map((r) => r.co_id));
}

/** True when the platform CO's admins group has any membership row (setup has been run). */
export async function platformAdminsExist(db: Executor): Promise<boolean> {
  const row = await db
    .selectFrom('co_group_member as m')
    .innerJoin('co_group as g', 'g.id', 'm.group_id')
    .innerJoin('co', 'co.id', 'g.co_id')
    .select('m.id')
    .where('co.is_platform', '=', 1)
    .where('g.group_type', '=', 'admins')
    .executeTakeFirst();
  return row !== undefined;
}

/** Inserts many membership rows in multi-row INSERTs (bulk loading); a duplicate is MEMBERSHIP_EXISTS (409), as one at a time. */
export async function insertMemberships(db: Executor, rows: readonly CoGroupMemberTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await mapUniqueViolation(db.insertInto('co_group_member').values(rows.slice(i, i + 1000)).execute(), () => new AppError(CORE_ERRORS.MEMBERSHIP_EXISTS, { field: 'personId' }));
  }
}
