import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { isId, newId } from '../../db/ids.ts';
import { canReadCo, isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { findPerson } from '../people/person.repository.ts';
import type { GroupInput, MembershipInput } from './group.schema.ts';
import type { CoGroupMemberTable, CoGroupTable, GroupType } from './group.table.ts';

export interface Group {
  id: string;
  coId: string;
  name: string;
  description: string;
  status: 'active' | 'suspended';
  type: GroupType;
  createdAt: string;
}

export interface Membership {
  id: string;
  groupId: string;
  personId: string;
  member: boolean;
  owner: boolean;
  validFrom: string | null;
  validThrough: string | null;
}

const toGroup = (r: CoGroupTable): Group => ({
  id: r.id,
  coId: r.co_id,
  name: r.name,
  description: r.description,
  status: r.status,
  type: r.group_type,
  createdAt: r.created_at,
});
const toMembership = (r: CoGroupMemberTable): Membership => ({
  id: r.id,
  groupId: r.group_id,
  personId: r.person_id,
  member: r.member === 1,
  owner: r.owner === 1,
  validFrom: r.valid_from,
  validThrough: r.valid_through,
});

export async function findGroup(db: Executor, coId: string, groupId: string): Promise<Group | undefined> {
  if (!isId(groupId)) return undefined;
  const row = await db.selectFrom('co_group').selectAll().where('co_id', '=', coId).where('id', '=', groupId).executeTakeFirst();
  return row && toGroup(row);
}

async function getGroupIn(db: Executor, coId: string, groupId: string): Promise<Group> {
  const group = await findGroup(db, coId, groupId);
  if (!group) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  return group;
}

export async function listGroups(ctx: CoreContext, actor: Actor, coId: string): Promise<Group[]> {
  assertThat(canReadCo(actor, coId), CORE_ERRORS.FORBIDDEN);
  const rows = await ctx.db.selectFrom('co_group').selectAll().where('co_id', '=', coId).orderBy('name').execute();
  return rows.map(toGroup);
}

export async function getGroup(ctx: CoreContext, actor: Actor, coId: string, groupId: string): Promise<Group> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  return getGroupIn(ctx.db, coId, groupId);
}

export async function createGroup(ctx: CoreContext, actor: Actor, coId: string, input: GroupInput): Promise<Group> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    await getCo(trx, coId);
    const id = newId();
    const now = ctx.clock.now().toISOString();
    try {
      await trx.insertInto('co_group').values({ id, co_id: coId, name: input.name, description: input.description, status: input.status, group_type: 'standard', created_at: now }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.GROUP_NAME_TAKEN, { field: 'name' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, groupId: id, action: 'GROUP_CREATED', comment: `Group ${input.name} created` });
    return (await findGroup(trx, coId, id))!;
  });
}

export async function updateGroup(ctx: CoreContext, actor: Actor, coId: string, groupId: string, input: GroupInput): Promise<Group> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const group = await getGroupIn(trx, coId, groupId);
    if (group.type !== 'standard' && input.name !== group.name) throw new AppError(CORE_ERRORS.GROUP_SYSTEM_PROTECTED, { field: 'name' });
    try {
      await trx.updateTable('co_group').set({ name: input.name, description: input.description, status: input.status }).where('id', '=', groupId).where('co_id', '=', coId).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.GROUP_NAME_TAKEN, { field: 'name' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, groupId, action: 'GROUP_UPDATED', comment: `Group ${input.name} updated` });
    await publishChange(ctx, trx, { kind: 'group', coId, groupId, reason: 'updated' });
    return (await findGroup(trx, coId, groupId))!;
  });
}

export async function deleteGroup(ctx: CoreContext, actor: Actor, coId: string, groupId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await ctx.db.transaction().execute(async (trx) => {
    const group = await getGroupIn(trx, coId, groupId);
    if (group.type !== 'standard') throw new AppError(CORE_ERRORS.GROUP_SYSTEM_PROTECTED);
    // Deleting would set the services' co_group_id to null and so open them to every member.
    const services = await trx.selectFrom('co_service').select('name').where('co_id', '=', coId).where('co_group_id', '=', groupId).orderBy('name').execute();
    if (services.length > 0) {
      throw new AppError(CORE_ERRORS.GROUP_IN_USE, { message: `CO Services restricted to this group: ${services.map((s) => s.name).join(', ')}; choose another group for them first` });
    }
    await publishChange(ctx, trx, { kind: 'group', coId, groupId, reason: 'deleted' });
    const members = await trx.selectFrom('co_group_member').select('person_id').where('group_id', '=', groupId).execute();
    await trx.deleteFrom('co_group').where('id', '=', groupId).where('co_id', '=', coId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'GROUP_DELETED', comment: `Group ${group.name} deleted` });
    for (const m of members) await publishChange(ctx, trx, { kind: 'person', coId, personId: m.person_id, reason: 'group deleted' });
  });
}

export async function listMemberships(ctx: CoreContext, actor: Actor, coId: string, groupId: string): Promise<Membership[]> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND);
  const group = await getGroupIn(ctx.db, coId, groupId);
  if (group.type === 'members') {
    // The members group is automatic: it holds the CO's active and grace-period people.
    const people = await ctx.db.selectFrom('co_person').select('id').where('co_id', '=', coId).where('status', 'in', ['active', 'grace_period']).execute();
    return people.map((p) => ({ id: `auto-${p.id}`, groupId, personId: p.id, member: true, owner: false, validFrom: null, validThrough: null }));
  }
  const rows = await ctx.db.selectFrom('co_group_member').selectAll().where('co_id', '=', coId).where('group_id', '=', groupId).orderBy('created_at').execute();
  return rows.map(toMembership);
}

/**
 * The groups a person belongs to now (validity windows applied), members group included. Only
 * members (active, grace period) belong to any group: expired, suspended and locked people keep
 * their membership rows but lose the memberships until they are reinstated.
 */
export async function currentGroupsOf(db: Executor, coId: string, personId: string, now: Date): Promise<Group[]> {
  const person = await db.selectFrom('co_person').select('status').where('id', '=', personId).where('co_id', '=', coId).executeTakeFirst();
  if (!person || (person.status !== 'active' && person.status !== 'grace_period')) return [];
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
    .orderBy('g.name')
    .execute();
  const groups = rows.map(toGroup);
  const members = await db.selectFrom('co_group').selectAll().where('co_id', '=', coId).where('group_type', '=', 'members').where('status', '=', 'active').execute();
  groups.push(...members.map(toGroup));
  return groups;
}

/** Every membership row of a person, including ones outside their validity window. */
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

export async function addMembership(ctx: CoreContext, actor: Actor, coId: string, groupId: string, input: MembershipInput): Promise<Membership> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const group = await getGroupIn(trx, coId, groupId);
    if (group.type === 'members') throw new AppError(CORE_ERRORS.GROUP_MEMBERSHIP_AUTOMATIC);
    const person = await findPerson(trx, coId, input.personId);
    if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND, { field: 'personId' });
    const id = newId();
    try {
      await trx
        .insertInto('co_group_member')
        .values({ id, co_id: coId, group_id: groupId, person_id: person.id, member: input.member ? 1 : 0, owner: input.owner ? 1 : 0, valid_from: input.validFrom ?? null, valid_through: input.validThrough ?? null, created_at: ctx.clock.now().toISOString() })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.MEMBERSHIP_EXISTS, { field: 'personId' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, personId: person.id, groupId, action: 'GROUP_MEMBERSHIP_ADDED', comment: `Added to group ${group.name}${input.owner ? ' (owner)' : ''}` });
    await publishChange(ctx, trx, { kind: 'person', coId, personId: person.id, reason: 'membership added' });
    return toMembership((await trx.selectFrom('co_group_member').selectAll().where('id', '=', id).executeTakeFirstOrThrow()));
  });
}

export async function removeMembership(ctx: CoreContext, actor: Actor, coId: string, groupId: string, membershipId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await ctx.db.transaction().execute(async (trx) => {
    const group = await getGroupIn(trx, coId, groupId);
    if (!isId(membershipId)) throw new AppError(CORE_ERRORS.MEMBERSHIP_NOT_FOUND);
    const row = await trx.selectFrom('co_group_member').selectAll().where('id', '=', membershipId).where('group_id', '=', groupId).where('co_id', '=', coId).executeTakeFirst();
    if (!row) throw new AppError(CORE_ERRORS.MEMBERSHIP_NOT_FOUND);
    // An admin removing their own last admin membership would lock the CO out; platform admins can still recover it.
    if (group.type === 'admins' && personIdOf(actor, coId) === row.person_id && actor.kind === 'person' && !actor.platformAdmin) {
      throw new AppError(CORE_ERRORS.FORBIDDEN, { message: 'You cannot remove yourself from the admins group' });
    }
    await trx.deleteFrom('co_group_member').where('id', '=', membershipId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, personId: row.person_id, groupId, action: 'GROUP_MEMBERSHIP_REMOVED', comment: `Removed from group ${group.name}` });
    await publishChange(ctx, trx, { kind: 'person', coId, personId: row.person_id, reason: 'membership removed' });
  });
}
