import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { canReadCo, isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { serviceNamesRestrictedTo } from '../co-services/co-service.repository.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { lockCo } from '../cos/co.repository.ts';
import { countPeopleWithStatus, findPerson, findPersonStatus, listPersonIdsOfCo, lockPerson, personIdsWithStatus } from '../people/person.repository.ts';
import type { PageCount } from '../../db/count-rows.ts';
import { isMemberStatus, MEMBER_STATUSES } from '../people/person.service.ts';
import type { GroupInput, MembershipInput } from './group.schema.ts';
import {
  activeMembersGroups,
  deleteGroupRow,
  deleteMembership,
  findGroup,
  findMembership,
  groupsWithValidMembership,
  insertGroups,
  insertMembership,
  listGroupsOfCo,
  countMembershipRows,
  listMembershipRows,
  peopleWithMembershipRow,
  memberPersonIdsOfGroup,
  updateGroupRow,
  type Group,
  type Membership,
} from './group.repository.ts';
import { inTransaction } from '../../db/transaction.ts';
import { assertNotSourceOwned } from '../sources/source-ownership.ts';

export type { Group, Membership } from './group.repository.ts';

async function getGroupIn(db: Executor, coId: string, groupId: string): Promise<Group> {
  const group = await findGroup(db, coId, groupId);
  if (!group) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  return group;
}

/** The CO's groups by name, for those who read the CO (`canReadCo`); FORBIDDEN otherwise. */
export async function listGroups(ctx: CoreContext, actor: Actor, coId: string): Promise<Group[]> {
  assertThat(canReadCo(actor, coId), CORE_ERRORS.FORBIDDEN);
  return listGroupsOfCo(ctx.db, coId);
}

/** One group of the CO; GROUP_NOT_FOUND (404) also when the actor cannot read the CO. */
export async function getGroup(ctx: CoreContext, actor: Actor, coId: string, groupId: string): Promise<Group> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  return getGroupIn(ctx.db, coId, groupId);
}

/** Creates a standard group (CO admins). Errors: CO_NOT_FOUND, GROUP_NAME_TAKEN (field `name`). */
export async function createGroup(ctx: CoreContext, actor: Actor, coId: string, input: GroupInput): Promise<Group> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    await getCo(trx, coId);
    const id = newId();
    const now = ctx.clock.now().toISOString();
    await insertGroups(trx, [{ id, co_id: coId, name: input.name, description: input.description, status: input.status, group_type: 'standard', created_at: now }]);
    await recordHistory(trx, ctx.clock, actor, { coId, groupId: id, action: 'GROUP_CREATED', comment: `Group ${input.name} created` });
    return (await findGroup(trx, coId, id))!;
  });
}

/** Changes a group (CO admins); system groups keep their names (GROUP_SYSTEM_PROTECTED). GROUP_NAME_TAKEN on a clash. */
export async function updateGroup(ctx: CoreContext, actor: Actor, coId: string, groupId: string, input: GroupInput): Promise<Group> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    // Reaches every member: alone in the CO (see the lock order in src/db/transaction.ts).
    await lockCo(trx, coId, 'exclusive');
    const group = await getGroupIn(trx, coId, groupId);
    await assertNotSourceOwned(trx, coId, group.sourceId, `The group ${group.name}`, 'name');
    if (group.type !== 'standard' && input.name !== group.name) throw new AppError(CORE_ERRORS.GROUP_SYSTEM_PROTECTED, { field: 'name' });
    await updateGroupRow(trx, coId, groupId, { name: input.name, description: input.description, status: input.status });
    await recordHistory(trx, ctx.clock, actor, { coId, groupId, action: 'GROUP_UPDATED', comment: `Group ${input.name} updated` });
    await publishChange(ctx, trx, { kind: 'group', coId, groupId, reason: 'updated' });
    return (await findGroup(trx, coId, groupId))!;
  });
}

/**
 * Deletes a standard group (CO admins). Refused with GROUP_IN_USE while services are restricted to
 * it, since deleting would set their group to null and so open them to every member.
 */
export async function deleteGroup(ctx: CoreContext, actor: Actor, coId: string, groupId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const group = await getGroupIn(trx, coId, groupId);
    if (group.type !== 'standard') throw new AppError(CORE_ERRORS.GROUP_SYSTEM_PROTECTED);
    await assertNotSourceOwned(trx, coId, group.sourceId, `The group ${group.name}`);
    const services = await serviceNamesRestrictedTo(trx, coId, groupId);
    if (services.length > 0) {
      throw new AppError(CORE_ERRORS.GROUP_IN_USE, { message: `CO Services restricted to this group: ${services.join(', ')}; choose another group for them first` });
    }
    await publishChange(ctx, trx, { kind: 'group', coId, groupId, reason: 'deleted' });
    const members = await memberPersonIdsOfGroup(trx, coId, groupId);
    await deleteGroupRow(trx, coId, groupId);
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'GROUP_DELETED', comment: `Group ${group.name} deleted` });
    for (const personId of members) await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'group deleted' });
  });
}

/** A page of a group's memberships, with the count of all of them (see `listMemberships`). */
export interface MembershipPage extends PageCount {
  items: Membership[];
  page: number;
  pageSize: number;
}

/**
 * A page of the group's memberships, oldest first: `pageSize` rows of page `page` (from 1). The
 * members group is automatic: it lists the CO's active and grace-period people as
 * `auto-<personId>` rows. `countUpTo`: count no further and say "at least" (the web page; the API
 * counts them all). GROUP_NOT_FOUND when the actor cannot read the CO.
 */
export async function listMemberships(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  groupId: string,
  query: { page: number; pageSize: number; countUpTo?: number },
): Promise<MembershipPage> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  const group = await getGroupIn(ctx.db, coId, groupId);
  const window = { limit: query.pageSize, offset: (query.page - 1) * query.pageSize };
  if (group.type === 'members') {
    const [personIds, count] = await Promise.all([personIdsWithStatus(ctx.db, coId, MEMBER_STATUSES, window), countPeopleWithStatus(ctx.db, coId, MEMBER_STATUSES, query.countUpTo)]);
    const items = personIds.map((id) => ({ id: `auto-${id}`, groupId, personId: id, member: true, owner: false, validFrom: null, validThrough: null }));
    return { items, ...count, page: query.page, pageSize: query.pageSize };
  }
  const [items, count] = await Promise.all([listMembershipRows(ctx.db, coId, groupId, window), countMembershipRows(ctx.db, coId, groupId, query.countUpTo)]);
  return { items, ...count, page: query.page, pageSize: query.pageSize };
}

/**
 * Which of `personIds` have a membership row (any validity window) in the group of the CO: for the
 * web page's list of people to add. GROUP_NOT_FOUND when the actor cannot read the CO;
 * GROUP_MEMBERSHIP_AUTOMATIC for the members group, whose membership is the people's status.
 */
export async function whichAreInGroup(ctx: CoreContext, actor: Actor, coId: string, group: Group, personIds: readonly string[]): Promise<Set<string>> {
  if (!canReadCo(actor, coId) || group.coId !== coId) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  assertThat(group.type !== 'members', CORE_ERRORS.GROUP_MEMBERSHIP_AUTOMATIC);
  return peopleWithMembershipRow(ctx.db, coId, group.id, personIds);
}

/**
 * The groups a person belongs to now (validity windows applied), members group included. Only
 * members (active, grace period) belong to any group: expired, suspended and locked people keep
 * their membership rows but lose the memberships until they are reinstated.
 */
export async function currentGroupsOf(db: Executor, coId: string, personId: string, now: Date): Promise<Group[]> {
  const status = await findPersonStatus(db, coId, personId);
  if (!status || !isMemberStatus(status)) return [];
  const [groups, members] = await Promise.all([groupsWithValidMembership(db, coId, personId, now), activeMembersGroups(db, coId)]);
  return [...groups, ...members];
}

/**
 * Adds a person to a group (CO admins). Errors: GROUP_NOT_FOUND, GROUP_MEMBERSHIP_AUTOMATIC (the
 * members group), PERSON_NOT_FOUND (field `personId`), MEMBERSHIP_EXISTS (409, field `personId`).
 */
export async function addMembership(ctx: CoreContext, actor: Actor, coId: string, groupId: string, input: MembershipInput): Promise<Membership> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    const group = await getGroupIn(trx, coId, groupId);
    if (group.type === 'members') throw new AppError(CORE_ERRORS.GROUP_MEMBERSHIP_AUTOMATIC);
    const person = (await lockPerson(trx, coId, input.personId, 'write')) ? await findPerson(trx, coId, input.personId) : undefined;
    if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND, { field: 'personId' });
    const membership = await insertMembership(trx, {
      id: newId(),
      co_id: coId,
      group_id: groupId,
      person_id: person.id,
      member: input.member ? 1 : 0,
      owner: input.owner ? 1 : 0,
      valid_from: input.validFrom ?? null,
      valid_through: input.validThrough ?? null,
      created_at: ctx.clock.now().toISOString(),
    });
    await recordHistory(trx, ctx.clock, actor, { coId, personId: person.id, groupId, action: 'GROUP_MEMBERSHIP_ADDED', comment: `Added to group ${group.name}${input.owner ? ' (owner)' : ''}` });
    await publishChange(ctx, trx, { kind: 'person', coId, personId: person.id, reason: 'membership added' });
    return membership;
  });
}

/**
 * Removes a membership row (CO admins). A CO admin cannot remove their own admins membership (the
 * CO would lose its last admin); platform admins can, and can recover a CO. MEMBERSHIP_NOT_FOUND otherwise.
 */
export async function removeMembership(ctx: CoreContext, actor: Actor, coId: string, groupId: string, membershipId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    const group = await getGroupIn(trx, coId, groupId);
    const found = await findMembership(trx, coId, groupId, membershipId);
    // Lock the person, then read the row again: it may have gone with them meanwhile.
    const row = found && (await lockPerson(trx, coId, found.personId, 'write')) ? await findMembership(trx, coId, groupId, membershipId) : undefined;
    if (!row) throw new AppError(CORE_ERRORS.MEMBERSHIP_NOT_FOUND);
    await assertNotSourceOwned(trx, coId, row.sourceId, `This membership of ${group.name}`);
    if (group.type === 'admins' && personIdOf(actor, coId) === row.personId && actor.kind === 'person' && !actor.platformAdmin) {
      throw new AppError(CORE_ERRORS.FORBIDDEN, { message: 'You cannot remove yourself from the admins group' });
    }
    await deleteMembership(trx, coId, membershipId);
    await recordHistory(trx, ctx.clock, actor, { coId, personId: row.personId, groupId, action: 'GROUP_MEMBERSHIP_REMOVED', comment: `Removed from group ${group.name}` });
    await publishChange(ctx, trx, { kind: 'person', coId, personId: row.personId, reason: 'membership removed' });
  });
}

/**
 * Ids of the people a change of the group may affect (for provisioning): every person of the CO
 * for its members group, whose membership is implicit; else the people with a membership row, in
 * any validity window (also for a group being deleted, whose rows are read before they go).
 */
export async function personIdsAffectedByGroup(db: Executor, coId: string, groupId: string): Promise<string[]> {
  const group = await findGroup(db, coId, groupId);
  if (group?.type === 'members') return listPersonIdsOfCo(db, coId);
  return memberPersonIdsOfGroup(db, coId, groupId);
}
