import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Co } from '../cos/co.service.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser, type BuiltPerson } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, fieldValue, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';
import { RFC3339_MESSAGE } from '../text.ts';

forEachDialect('Group pages', (dialect) => {
  const t = useTestApp(dialect);
  let coA: Co;
  let coB: Co;
  let admin: Browser;
  let adminPerson: BuiltPerson;
  let member: Browser;
  let alice: BuiltPerson;
  let bob: BuiltPerson;
  let personB: BuiltPerson;
  let adminB: Browser;

  before(async () => {
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    adminPerson = await buildPerson(t, coA.id, { admin: true, given: 'Ada', family: 'Admin' });
    admin = await signIn(t, adminPerson.username);
    alice = await buildPerson(t, coA.id, { given: 'Alice', family: 'Astro' });
    bob = await buildPerson(t, coA.id, { given: 'Bob', family: 'Suspended', status: 'suspended' });
    member = await signIn(t, alice.username);
    personB = await buildPerson(t, coB.id, { admin: true, given: 'Bea', family: 'Bio' });
    adminB = await signIn(t, personB.username);
  });

  const groups = (coId: string) => `/cos/${coId}/groups`;

  async function groupId(coId: string, name: string): Promise<string> {
    return (await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coId).where('name', '=', name).executeTakeFirstOrThrow()).id;
  }
  async function memberRows(gid: string) {
    return t.ctx.db.selectFrom('co_group_member').selectAll().where('group_id', '=', gid).execute();
  }

  it('lists groups, system ones included, for admins only', async () => {
    const res = await get(t, groups(coA.id), admin);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /CO:admins/);
    assert.match(res.body, /CO:members:active/);
    assert.match(res.body, /create the first group/);
    assert.equal((await get(t, groups(coA.id), member)).statusCode, 403);
    assert.equal((await get(t, `${groups(coA.id)}/new`, member)).statusCode, 403);
    assert.equal((await get(t, groups(coA.id), adminB)).statusCode, 404);
  });

  it('creates a group, refusing duplicates (409) and reserved or empty names (400)', async () => {
    const res = await post(t, groups(coA.id), admin, { name: 'Telescope operators', description: 'Night shift', status: 'active' });
    const page = await followRedirect(t, res, admin);
    assert.match(page.body, /Group Telescope operators created\./);
    const gid = await groupId(coA.id, 'Telescope operators');
    assert.equal(res.headers.location, `${groups(coA.id)}/${gid}`);

    const dup = await post(t, groups(coA.id), admin, { name: 'Telescope operators', description: 'Again', status: 'active' });
    assert.equal(dup.statusCode, 409);
    assert.equal(fieldMessage(dup.body, 'f-name'), 'A group with this name exists already in the CO');
    assert.equal(fieldValue(dup.body, 'f-description'), 'Again');

    const reserved = await post(t, groups(coA.id), admin, { name: 'CO:sneaky', description: '', status: 'active' });
    assert.equal(reserved.statusCode, 400);
    assert.equal(fieldMessage(reserved.body, 'f-name'), 'Names starting with "CO:" are reserved');
    assert.equal(fieldValue(reserved.body, 'f-name'), 'CO:sneaky');

    const badStatus = await post(t, groups(coA.id), admin, { name: 'Odd', status: 'weird' });
    assert.equal(badStatus.statusCode, 400);
    assert.ok(fieldMessage(badStatus.body, 'f-status'));

    assert.equal((await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coA.id).execute()).length, 3);
    assert.equal((await post(t, groups(coA.id), member, { name: 'Members only', status: 'active' })).statusCode, 403);
    assert.equal((await post(t, groups(coA.id), adminB, { name: 'Planted', status: 'active' })).statusCode, 404);
    assert.equal((await t.ctx.db.selectFrom('co_group').select('id').where('name', 'in', ['Members only', 'Planted']).execute()).length, 0);
  });

  it('edits a group; system groups change only their description', async () => {
    await post(t, groups(coA.id), admin, { name: 'Editors', description: '', status: 'active' });
    const gid = await groupId(coA.id, 'Editors');
    const form = await get(t, `${groups(coA.id)}/${gid}/edit`, admin);
    assert.equal(fieldValue(form.body, 'f-name'), 'Editors');
    await followRedirect(t, await post(t, `${groups(coA.id)}/${gid}/edit`, admin, { name: 'Chief editors', description: 'They edit', status: 'suspended' }), admin);
    const row = await t.ctx.db.selectFrom('co_group').selectAll().where('id', '=', gid).executeTakeFirstOrThrow();
    assert.deepEqual([row.name, row.description, row.status], ['Chief editors', 'They edit', 'suspended']);

    const clash = await post(t, `${groups(coA.id)}/${gid}/edit`, admin, { name: 'Telescope operators', description: 'x', status: 'active' });
    assert.equal(clash.statusCode, 409);
    assert.equal(fieldMessage(clash.body, 'f-name'), 'A group with this name exists already in the CO');

    const admins = await groupId(coA.id, 'CO:admins');
    const systemForm = await get(t, `${groups(coA.id)}/${admins}/edit`, admin);
    assert.equal(fieldValue(systemForm.body, 'f-name'), undefined, 'no name field for a system group');
    await followRedirect(t, await post(t, `${groups(coA.id)}/${admins}/edit`, admin, { name: 'Renamed', description: 'The admins', status: 'suspended' }), admin);
    const adminsRow = await t.ctx.db.selectFrom('co_group').selectAll().where('id', '=', admins).executeTakeFirstOrThrow();
    assert.deepEqual([adminsRow.name, adminsRow.description, adminsRow.status], ['CO:admins', 'The admins', 'active']);
  });

  it('deletes a standard group but never a system group', async () => {
    await post(t, groups(coA.id), admin, { name: 'Short-lived', description: '', status: 'active' });
    const gid = await groupId(coA.id, 'Short-lived');
    const page = await get(t, `${groups(coA.id)}/${gid}`, admin);
    assert.match(page.body, /data-confirm="Delete the group Short-lived\?/);
    const res = await followRedirect(t, await post(t, `${groups(coA.id)}/${gid}/delete`, admin), admin);
    assert.match(res.body, /Group Short-lived deleted\./);
    assert.equal((await t.ctx.db.selectFrom('co_group').select('id').where('id', '=', gid).execute()).length, 0);

    for (const name of ['CO:admins', 'CO:members:active']) {
      const system = await groupId(coA.id, name);
      assert.doesNotMatch((await get(t, `${groups(coA.id)}/${system}`, admin)).body, /Delete group/);
      const refused = await post(t, `${groups(coA.id)}/${system}/delete`, admin);
      assert.equal(refused.statusCode, 422);
      assert.ok(await t.ctx.db.selectFrom('co_group').select('id').where('id', '=', system).executeTakeFirst());
    }
    const bGroup = await groupId(coB.id, 'CO:admins');
    assert.equal((await post(t, `${groups(coA.id)}/${bGroup}/delete`, admin)).statusCode, 404);
    assert.equal((await get(t, `${groups(coA.id)}/${bGroup}`, admin)).statusCode, 404);
  });

  it('refuses to delete a group that CO Services are restricted to, which would open them to everyone', async () => {
    await post(t, groups(coA.id), admin, { name: 'Wiki editors', description: '', status: 'active' });
    const gid = await groupId(coA.id, 'Wiki editors');
    await post(t, `/cos/${coA.id}/services`, admin, { name: 'Wiki', shortLabel: 'wikiedit', coGroupId: gid, visibility: 'co_member', identifierType: 'uid', status: 'active' });
    const page = await get(t, `${groups(coA.id)}/${gid}`, admin);
    assert.match(page.body, /CO Services restricted to this group/);
    assert.match(page.body, />Wiki<\/a>/);
    assert.doesNotMatch(page.body, /Delete group/);

    const res = await post(t, `${groups(coA.id)}/${gid}/delete`, admin);
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /CO Services restricted to this group: Wiki; choose another group for them first/);
    assert.ok(await t.ctx.db.selectFrom('co_group').select('id').where('id', '=', gid).executeTakeFirst());
    const service = await t.ctx.db.selectFrom('co_service').select('co_group_id').where('short_label', '=', 'wikiedit').executeTakeFirstOrThrow();
    assert.equal(service.co_group_id, gid);
  });

  it('adds members chosen from the CO’s people, with validity and owner, and removes them', async () => {
    await post(t, groups(coA.id), admin, { name: 'Observers', description: '', status: 'active' });
    const gid = await groupId(coA.id, 'Observers');
    const url = `${groups(coA.id)}/${gid}`;
    const page = await get(t, url, admin);
    assert.ok(page.body.includes(`<option value="${alice.id}">Alice Astro (${alice.username})</option>`));
    assert.ok(!page.body.includes(personB.id), 'another CO’s people are not offered');
    assert.match(page.body, /No members yet — add the first person below/);

    const added = await followRedirect(t, await post(t, `${url}/members`, admin, { personId: alice.id, owner: 'on', validFrom: '2026-01-01T08:00', validThrough: '2027-06-30T18:30' }), admin);
    assert.match(added.body, /Member added\./);
    const [row] = await memberRows(gid);
    assert.deepEqual([row!.person_id, row!.owner, row!.member, row!.valid_from, row!.valid_through], [alice.id, 1, 1, '2026-01-01T08:00:00.000Z', '2027-06-30T18:30:00.000Z']);
    assert.match(added.body, /Alice Astro/);
    assert.ok(!added.body.includes(`<option value="${alice.id}"`), 'a member is not offered again');

    const again = await post(t, `${url}/members`, admin, { personId: alice.id });
    assert.equal(again.statusCode, 409);
    assert.equal(fieldMessage(again.body, 'f-personId'), 'This person is already in the group');

    const badDates = await post(t, `${url}/members`, admin, { personId: bob.id, validFrom: '2027-01-01T00:00', validThrough: '2026-01-01T00:00' });
    assert.equal(badDates.statusCode, 400);
    assert.equal(fieldMessage(badDates.body, 'f-validThrough'), 'Must be after "valid from"');
    assert.equal(fieldValue(badDates.body, 'f-validFrom'), '2027-01-01T00:00');
    assert.equal(fieldValue(badDates.body, 'f-personId'), bob.id);
    const garbage = await post(t, `${url}/members`, admin, { personId: bob.id, validFrom: 'next tuesday' });
    assert.equal(garbage.statusCode, 400);
    assert.equal(fieldMessage(garbage.body, 'f-validFrom'), RFC3339_MESSAGE);
    const nobody = await post(t, `${url}/members`, admin, { personId: '' });
    assert.equal(nobody.statusCode, 400);
    assert.equal(fieldMessage(nobody.body, 'f-personId'), 'Required');
    assert.equal((await memberRows(gid)).length, 1);

    const removed = await followRedirect(t, await post(t, `${url}/members/${row!.id}/delete`, admin), admin);
    assert.match(removed.body, /Member removed\./);
    assert.equal((await memberRows(gid)).length, 0);
  });

  it('refuses another CO’s people and memberships, in bodies and URLs (404), changing nothing', async () => {
    await post(t, groups(coA.id), admin, { name: 'Guarded', description: '', status: 'active' });
    const gid = await groupId(coA.id, 'Guarded');
    const res = await post(t, `${groups(coA.id)}/${gid}/members`, admin, { personId: personB.id });
    assert.equal(res.statusCode, 404);
    assert.equal(fieldMessage(res.body, 'f-personId'), 'No such person in this CO');
    assert.equal((await memberRows(gid)).length, 0);

    const bAdmins = await groupId(coB.id, 'CO:admins');
    const bMembership = (await memberRows(bAdmins))[0]!;
    assert.equal((await post(t, `${groups(coA.id)}/${gid}/members/${bMembership.id}/delete`, admin)).statusCode, 404);
    assert.equal((await post(t, `${groups(coA.id)}/${bAdmins}/members/${bMembership.id}/delete`, admin)).statusCode, 404);
    assert.equal((await post(t, `${groups(coA.id)}/${bAdmins}/members`, admin, { personId: alice.id })).statusCode, 404);
    assert.equal((await memberRows(bAdmins)).length, 1);
    assert.equal((await post(t, `${groups(coA.id)}/${gid}/members`, member, { personId: alice.id })).statusCode, 403);
    assert.equal((await memberRows(gid)).length, 0);
  });

  it('shows the members group’s automatic members and no form to add any', async () => {
    const gid = await groupId(coA.id, 'CO:members:active');
    const page = await get(t, `${groups(coA.id)}/${gid}`, admin);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Alice Astro/);
    assert.match(page.body, /Ada Admin/);
    assert.doesNotMatch(page.body, /Bob Suspended/, 'a suspended person is not a member');
    assert.doesNotMatch(page.body, /Add a member/);
    const res = await post(t, `${groups(coA.id)}/${gid}/members`, admin, { personId: bob.id });
    assert.equal(res.statusCode, 422);
    assert.equal((await memberRows(gid)).length, 0);
  });

  it('shows a large group a page of 100 members at a time, counting them up to 1,000', async () => {
    const co = await buildCo(t, 'Paged');
    const owner = await buildPerson(t, co.id, { admin: true, given: 'Paula', family: 'Pager' });
    const browser = await signIn(t, owner.username);
    const gid = await groupId(co.id, 'CO:members:active');
    const names: string[] = [];
    for (let i = 0; i < 104; i++) {
      const family = `Member${String(i).padStart(3, '0')}`;
      await buildPerson(t, co.id, { given: 'Paged', family });
      names.push(`Paged ${family}`);
      t.clock.advance(1000);
    }
    const first = await get(t, `${groups(co.id)}/${gid}`, browser);
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /Members \(105\)/);
    assert.match(first.body, /Showing 1–100 of 105/);
    assert.ok(first.body.includes(`href="${groups(co.id)}/${gid}?page=2#members-h"`), 'a link to the second page');
    assert.ok(first.body.includes(names[98]!) && !first.body.includes(names[99]!), 'the oldest 100 (the admin and 99 others)');
    const second = await get(t, `${groups(co.id)}/${gid}?page=2`, browser);
    assert.match(second.body, /Showing 101–105 of 105/);
    for (const n of names.slice(99)) assert.ok(second.body.includes(n), n);
    assert.ok(!second.body.includes(names[98]!));
    const junk = await get(t, `${groups(co.id)}/${gid}?page=abc`, browser);
    assert.equal(junk.statusCode, 200, 'a page that is not a number is the first page');
    assert.match(junk.body, /Showing 1–100 of 105/);
  });

  it('does not offer admins to remove themselves from the admins group', async () => {
    const gid = await groupId(coA.id, 'CO:admins');
    const page = await get(t, `${groups(coA.id)}/${gid}`, admin);
    assert.match(page.body, /Ada Admin/);
    const own = (await memberRows(gid)).find((m) => m.person_id === adminPerson.id)!;
    assert.ok(!page.body.includes(`/members/${own.id}/delete`));
    assert.equal((await post(t, `${groups(coA.id)}/${gid}/members/${own.id}/delete`, admin)).statusCode, 403);
    assert.equal((await memberRows(gid)).length, 1);
  });

  it('escapes group names and descriptions, and person names in member lists', async () => {
    const res = await post(t, groups(coA.id), admin, { name: `Evil ${XSS}`, description: XSS, status: 'active' });
    const page = await followRedirect(t, res, admin);
    assertEscaped(page.body, 'group page');
    assertEscaped((await get(t, groups(coA.id), admin)).body, 'group list');
    const gid = await groupId(coA.id, `Evil ${XSS}`);
    assertEscaped((await get(t, `${groups(coA.id)}/${gid}/edit`, admin)).body, 'group edit');
    const evil = await buildPerson(t, coA.id, { given: XSS, family: 'Person' });
    await post(t, `${groups(coA.id)}/${gid}/members`, admin, { personId: evil.id });
    assertEscaped((await get(t, `/cos/${coA.id}/people/${evil.id}`, admin)).body, 'person page with the group');
    const withMember = (await get(t, `${groups(coA.id)}/${gid}`, admin)).body;
    assertEscaped(withMember, 'group page with the member');
    assert.ok(withMember.includes(`data-confirm="Remove &lt;script>alert(1)&lt;/script>&quot;' Person from Evil`));
  });
});
