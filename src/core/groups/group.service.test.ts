import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { SYSTEM_ACTOR, isCoAdmin } from '../auth/actor.ts';
import { ADMINS_GROUP_NAME, MEMBERS_GROUP_NAME } from '../cos/co.service.ts';
import type { AppError } from '../errors/app-error.ts';
import { setPersonStatus } from '../people/person.service.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import {
  addMembership,
  createGroup,
  currentGroupsOf,
  deleteGroup,
  getGroup,
  listGroups,
  listMemberships,
  removeMembership,
  updateGroup,
  whichAreInGroup,
  type Group,
} from './group.service.ts';
import { membershipsOfPerson } from './group.repository.ts';

const DAY = 24 * 3600 * 1000;
/** One page that holds every membership these tests make. */
const ALL = { page: 1, pageSize: 1000 };

const isError = (code: string, status: number, field?: string) => (e: AppError) => {
  assert.equal(e.code, code);
  assert.equal(e.status, status);
  if (field !== undefined) assert.equal(e.field, field);
  return true;
};

forEachDialect('Groups', (dialect) => {
  const t = useTestApp(dialect);

  async function systemGroups(coId: string): Promise<{ admins: Group; members: Group }> {
    const groups = await listGroups(t.ctx, SYSTEM_ACTOR, coId);
    return { admins: groups.find((g) => g.type === 'admins')!, members: groups.find((g) => g.type === 'members')! };
  }

  it('gives every CO an admins and a members group that cannot be renamed or deleted', async () => {
    const co = await buildCo(t);
    const { admins, members } = await systemGroups(co.id);
    assert.equal(admins.name, ADMINS_GROUP_NAME);
    assert.equal(members.name, MEMBERS_GROUP_NAME);
    for (const g of [admins, members]) {
      await assert.rejects(updateGroup(t.ctx, SYSTEM_ACTOR, co.id, g.id, { name: 'Renamed', description: '', status: 'active' }), isError('GROUP_SYSTEM_PROTECTED', 422, 'name'));
      await assert.rejects(deleteGroup(t.ctx, SYSTEM_ACTOR, co.id, g.id), isError('GROUP_SYSTEM_PROTECTED', 422));
    }
    // The description of a system group may change, its name stays.
    const updated = await updateGroup(t.ctx, SYSTEM_ACTOR, co.id, admins.id, { name: ADMINS_GROUP_NAME, description: 'The people in charge', status: 'active' });
    assert.equal(updated.description, 'The people in charge');
    const rows = await t.ctx.db.selectFrom('co_group').select(['name', 'group_type']).where('co_id', '=', co.id).orderBy('name').execute();
    assert.deepEqual(rows, [
      { name: ADMINS_GROUP_NAME, group_type: 'admins' },
      { name: MEMBERS_GROUP_NAME, group_type: 'members' },
    ]);
  });

  it('creates, renames and deletes standard groups, names unique per CO, with history', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Wiki editors', description: 'Edit the wiki', status: 'active' });
    assert.deepEqual({ name: group.name, description: group.description, type: group.type, status: group.status, coId: group.coId }, { name: 'Wiki editors', description: 'Edit the wiki', type: 'standard', status: 'active', coId: co.id });
    await assert.rejects(createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Wiki editors', description: '', status: 'active' }), isError('GROUP_NAME_TAKEN', 409, 'name'));
    await createGroup(t.ctx, SYSTEM_ACTOR, other.id, { name: 'Wiki editors', description: '', status: 'active' });

    const second = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Readers', description: '', status: 'active' });
    await assert.rejects(updateGroup(t.ctx, SYSTEM_ACTOR, co.id, second.id, { name: 'Wiki editors', description: '', status: 'active' }), isError('GROUP_NAME_TAKEN', 409, 'name'));
    const renamed = await updateGroup(t.ctx, SYSTEM_ACTOR, co.id, second.id, { name: 'Wiki readers', description: 'Read', status: 'suspended' });
    assert.deepEqual([renamed.name, renamed.status], ['Wiki readers', 'suspended']);

    const person = await buildPerson(t, co.id);
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: person.id, member: true, owner: false });
    await deleteGroup(t.ctx, SYSTEM_ACTOR, co.id, group.id);
    assert.equal(await t.ctx.db.selectFrom('co_group').select('id').where('id', '=', group.id).executeTakeFirst(), undefined);
    assert.deepEqual(await t.ctx.db.selectFrom('co_group_member').select('id').where('group_id', '=', group.id).execute(), []);

    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'comment']).where('co_id', '=', co.id).where('action', 'like', 'GROUP_%').orderBy('created_at').execute();
    assert.deepEqual(new Set(history.map((h) => h.action)), new Set(['GROUP_CREATED', 'GROUP_UPDATED', 'GROUP_MEMBERSHIP_ADDED', 'GROUP_DELETED']));
    assert.ok(history.some((h) => h.comment === 'Group Wiki editors deleted'));
  });

  it('counts a membership only within its validity window', async () => {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Cluster', description: '', status: 'active' });
    const future = await buildPerson(t, co.id);
    const past = await buildPerson(t, co.id);
    const current = await buildPerson(t, co.id);
    const now = t.clock.now().getTime();
    const iso = (ms: number) => new Date(ms).toISOString();

    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: future.id, member: true, owner: false, validFrom: iso(now + DAY) });
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: past.id, member: true, owner: false, validThrough: iso(now - DAY) });
    const m = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: current.id, member: true, owner: false, validFrom: iso(now - DAY), validThrough: iso(now + 2 * DAY) });
    assert.deepEqual([m.validFrom, m.validThrough], [iso(now - DAY), iso(now + 2 * DAY)]);

    const inGroup = async (personId: string) => (await currentGroupsOf(t.ctx.db, co.id, personId, t.clock.now())).some((g) => g.id === group.id);
    assert.equal(await inGroup(future.id), false);
    assert.equal(await inGroup(past.id), false);
    assert.equal(await inGroup(current.id), true);
    // Every row is still listed for admins, whatever its window.
    assert.equal((await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, group.id, ALL)).items.length, 3);
    assert.equal((await membershipsOfPerson(t.ctx.db, co.id, future.id)).length, 1);

    t.clock.advance(DAY + 1000);
    assert.equal(await inGroup(future.id), true);
    assert.equal(await inGroup(current.id), true);
    t.clock.advance(DAY);
    assert.equal(await inGroup(current.id), false, 'valid_through has passed');
    assert.equal(await inGroup(future.id), true);
  });

  it('makes the members group automatic: active and grace-period people, not editable', async () => {
    const co = await buildCo(t);
    const { members } = await systemGroups(co.id);
    const active = await buildPerson(t, co.id, { status: 'active' });
    const grace = await buildPerson(t, co.id, { status: 'grace_period' });
    const suspended = await buildPerson(t, co.id, { status: 'suspended' });
    const pending = await buildPerson(t, co.id, { status: 'pending' });

    const listed = (await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, members.id, ALL)).items;
    assert.deepEqual(new Set(listed.map((m) => m.personId)), new Set([active.id, grace.id]));
    for (const p of [active, grace]) assert.ok((await currentGroupsOf(t.ctx.db, co.id, p.id, t.clock.now())).some((g) => g.id === members.id));
    for (const p of [suspended, pending]) assert.ok(!(await currentGroupsOf(t.ctx.db, co.id, p.id, t.clock.now())).some((g) => g.id === members.id));

    await assert.rejects(addMembership(t.ctx, SYSTEM_ACTOR, co.id, members.id, { personId: suspended.id, member: true, owner: false }), isError('GROUP_MEMBERSHIP_AUTOMATIC', 422));
    await assert.rejects(removeMembership(t.ctx, SYSTEM_ACTOR, co.id, members.id, listed[0]!.id), isError('MEMBERSHIP_NOT_FOUND', 404));
    assert.deepEqual(await t.ctx.db.selectFrom('co_group_member').select('id').where('group_id', '=', members.id).execute(), []);

    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, active.id, 'expired');
    const after = (await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, members.id, ALL)).items;
    assert.deepEqual(after.map((m) => m.personId), [grace.id]);
  });

  it('drops every group of a person who is no longer a member (expired, suspended, locked)', async () => {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Team', description: '', status: 'active' });
    const person = await buildPerson(t, co.id);
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: person.id, member: true, owner: false });
    assert.deepEqual((await currentGroupsOf(t.ctx.db, co.id, person.id, t.clock.now())).map((g) => g.name).sort(), [MEMBERS_GROUP_NAME, 'Team']);
    for (const status of ['suspended', 'expired', 'locked'] as const) {
      await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, status);
      assert.deepEqual(await currentGroupsOf(t.ctx.db, co.id, person.id, t.clock.now()), [], status);
    }
    // The membership row itself stays, so it counts again when the person is reinstated.
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'active');
    assert.deepEqual((await currentGroupsOf(t.ctx.db, co.id, person.id, t.clock.now())).map((g) => g.name).sort(), [MEMBERS_GROUP_NAME, 'Team']);
  });

  it('ignores suspended groups and memberships without the member flag', async () => {
    const co = await buildCo(t);
    const suspended = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Dormant', description: '', status: 'suspended' });
    const owners = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Owned', description: '', status: 'active' });
    const person = await buildPerson(t, co.id);
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, suspended.id, { personId: person.id, member: true, owner: false });
    const ownerOnly = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, owners.id, { personId: person.id, member: false, owner: true });
    assert.deepEqual([ownerOnly.member, ownerOnly.owner], [false, true]);
    const row = await t.ctx.db.selectFrom('co_group_member').select(['member', 'owner']).where('id', '=', ownerOnly.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { member: 0, owner: 1 });
    assert.deepEqual((await currentGroupsOf(t.ctx.db, co.id, person.id, t.clock.now())).map((g) => g.name), [MEMBERS_GROUP_NAME]);
  });

  it('records owners and refuses duplicates and people of another CO', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Owners', description: '', status: 'active' });
    const person = await buildPerson(t, co.id);
    const stranger = await buildPerson(t, other.id);

    const m = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: person.id, member: true, owner: true });
    assert.equal(m.owner, true);
    assert.equal(m.personId, person.id);
    const history = await t.ctx.db.selectFrom('history_record').select(['comment', 'group_id', 'person_id']).where('action', '=', 'GROUP_MEMBERSHIP_ADDED').where('group_id', '=', group.id).execute();
    assert.deepEqual(history, [{ comment: 'Added to group Owners (owner)', group_id: group.id, person_id: person.id }]);
    await assert.rejects(addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: person.id, member: true, owner: false }), isError('MEMBERSHIP_EXISTS', 409, 'personId'));
    await assert.rejects(addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: stranger.id, member: true, owner: false }), isError('PERSON_NOT_FOUND', 404, 'personId'));
    await assert.rejects(addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: 'not-an-id', member: true, owner: false }), isError('PERSON_NOT_FOUND', 404, 'personId'));
    // Another CO's group through this CO: not found.
    const foreignGroup = await createGroup(t.ctx, SYSTEM_ACTOR, other.id, { name: 'Foreign', description: '', status: 'active' });
    await assert.rejects(addMembership(t.ctx, SYSTEM_ACTOR, co.id, foreignGroup.id, { personId: person.id, member: true, owner: false }), isError('GROUP_NOT_FOUND', 404));
    await assert.rejects(getGroup(t.ctx, SYSTEM_ACTOR, co.id, foreignGroup.id), isError('GROUP_NOT_FOUND', 404));
    assert.deepEqual(await t.ctx.db.selectFrom('co_group_member').select('person_id').where('group_id', 'in', [group.id, foreignGroup.id]).execute(), [{ person_id: person.id }]);

    await removeMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, m.id);
    assert.deepEqual(await t.ctx.db.selectFrom('co_group_member').select('id').where('group_id', '=', group.id).execute(), []);
    await assert.rejects(removeMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, m.id), isError('MEMBERSHIP_NOT_FOUND', 404));
  });

  it('keeps admins of another CO out, and stops an admin removing themselves from admins', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const { admins } = await systemGroups(co.id);
    const admin = await buildPerson(t, co.id, { admin: true });
    const colleague = await buildPerson(t, co.id, { admin: true });
    const outsider = await buildPerson(t, other.id, { admin: true });
    const actor = await actorFor(t, admin.username);
    const outsiderActor = await actorFor(t, outsider.username);

    const rows = await t.ctx.db.selectFrom('co_group_member').select(['id', 'person_id']).where('group_id', '=', admins.id).execute();
    const own = rows.find((r) => r.person_id === admin.id)!;
    const theirs = rows.find((r) => r.person_id === colleague.id)!;

    await assert.rejects(removeMembership(t.ctx, actor, co.id, admins.id, own.id), isError('FORBIDDEN', 403));
    await assert.rejects(removeMembership(t.ctx, outsiderActor, co.id, admins.id, theirs.id), isError('FORBIDDEN', 403));
    await assert.rejects(listGroups(t.ctx, outsiderActor, co.id), isError('FORBIDDEN', 403));
    await assert.rejects(createGroup(t.ctx, outsiderActor, co.id, { name: 'Intruders', description: '', status: 'active' }), isError('FORBIDDEN', 403));
    await assert.rejects(addMembership(t.ctx, outsiderActor, co.id, admins.id, { personId: admin.id, member: true, owner: false }), isError('FORBIDDEN', 403));
    assert.equal((await t.ctx.db.selectFrom('co_group_member').select('id').where('group_id', '=', admins.id).execute()).length, 2);

    // Removing another admin is fine, and is recorded with the actor.
    await removeMembership(t.ctx, actor, co.id, admins.id, theirs.id);
    const history = await t.ctx.db.selectFrom('history_record').select(['actor_label', 'actor_person_id', 'person_id']).where('action', '=', 'GROUP_MEMBERSHIP_REMOVED').where('group_id', '=', admins.id).execute();
    assert.deepEqual(history, [{ actor_label: admin.username, actor_person_id: admin.id, person_id: colleague.id }]);
    assert.equal(isCoAdmin(await actorFor(t, colleague.username), co.id), false);
  });

  it('lists a group a page at a time, oldest first, and counts up to a bound when asked', async () => {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Paged', description: '', status: 'active' });
    const people = [];
    for (let i = 0; i < 7; i++) {
      const p = await buildPerson(t, co.id, { status: 'active' });
      people.push(p);
      await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: p.id, member: true, owner: false });
      t.clock.advance(1000);
    }
    const pages = [];
    for (let page = 1; page <= 3; page++) pages.push(await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, group.id, { page, pageSize: 3 }));
    assert.deepEqual(pages.map((p) => p.items.length), [3, 3, 1]);
    assert.deepEqual(pages.flatMap((p) => p.items.map((m) => m.personId)), people.map((p) => p.id), 'every member once, oldest first');
    assert.deepEqual(pages.map((p) => [p.total, p.totalIsAtLeast]), [[7, false], [7, false], [7, false]]);
    assert.deepEqual((await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, group.id, { page: 4, pageSize: 3 })).items, []);

    const bounded = await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, group.id, { page: 1, pageSize: 3, countUpTo: 5 });
    assert.deepEqual([bounded.total, bounded.totalIsAtLeast], [5, true]);
    const exact = await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, group.id, { page: 1, pageSize: 3, countUpTo: 7 });
    assert.deepEqual([exact.total, exact.totalIsAtLeast], [7, false]);

    const { members } = await systemGroups(co.id);
    const automatic = await listMemberships(t.ctx, SYSTEM_ACTOR, co.id, members.id, { page: 2, pageSize: 4, countUpTo: 5 });
    assert.deepEqual(automatic.items.map((m) => m.personId), people.slice(4).map((p) => p.id), 'the second page of the members group, oldest first');
    assert.deepEqual([automatic.total, automatic.totalIsAtLeast], [5, true]);

    const outsider = await buildPerson(t, co.id, { status: 'active' });
    assert.deepEqual(await whichAreInGroup(t.ctx, SYSTEM_ACTOR, co.id, group, [people[0]!.id, outsider.id, people[6]!.id]), new Set([people[0]!.id, people[6]!.id]));
    await assert.rejects(whichAreInGroup(t.ctx, SYSTEM_ACTOR, co.id, members, [outsider.id]), isError('GROUP_MEMBERSHIP_AUTOMATIC', 422));
  });
});
