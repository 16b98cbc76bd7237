import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { Co } from '../cos/co.service.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, signIn, useTestApp, type Browser } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';
import { upsertSourcePerson } from './source-person.writer.ts';
import { setSourceGroupMembers, upsertSourceGroup } from './source-group.writer.ts';
import { addMembership } from '../groups/group.service.ts';
import { addSource, getSource } from './source.service.ts';

const UNREACHABLE = 'postgres://reader:s3cret-pw@127.0.0.1:1/registry';

forEachDialect('Sources pages and API', (dialect) => {
  const t = useTestApp(dialect);
  let co: Co;
  let admin: Browser;

  before(async () => {
    co = await buildCo(t);
    admin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
  });

  it('adds a source through the form, re-rendering bad input without echoing the URL, and never shows the password', async () => {
    const bad = await post(t, `/cos/${co.id}/sources`, admin, { name: XSS, databaseUrl: 'http://registry.example.org/x?pw=hunter2', prefix: 'sp_', layout: 'v4' });
    assert.equal(bad.statusCode, 400);
    assert.ok(fieldMessage(bad.body, 'f-name'));
    assert.ok(!bad.body.includes('hunter2'), 'the URL (it may hold a password) is not sent back');
    assertEscaped(bad.body, 'the re-rendered form');
    const ok = await post(t, `/cos/${co.id}/sources`, admin, { name: 'registry', databaseUrl: UNREACHABLE, prefix: 'sp_', layout: 'v4' });
    assert.equal(ok.statusCode, 303, ok.body);
    const page = await followRedirect(t, ok, admin);
    assert.match(page.body, /Source registry added/);
    assert.match(page.body, /postgres:\/\/reader:\*\*\*\*@127\.0\.0\.1:1\/registry/);
    assert.ok(!page.body.includes('s3cret-pw'));
    const row = await t.db.selectFrom('source').select('settings_encrypted').where('co_id', '=', co.id).executeTakeFirstOrThrow();
    assert.ok(!row.settings_encrypted.includes('s3cret-pw'), 'stored encrypted');
    const list = await get(t, `/cos/${co.id}/sources`, admin);
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /registry/);
    const taken = await post(t, `/cos/${co.id}/sources`, admin, { name: 'registry', databaseUrl: UNREACHABLE, layout: 'v4' });
    assert.equal(taken.statusCode, 409);
  });

  it('shows a dry run of an unreachable source as an error, and terminates only after confirmation', async () => {
    const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'gone', settings: { databaseUrl: UNREACHABLE } });
    const dry = await post(t, `/cos/${co.id}/sources/${source.id}/run`, admin, { mode: 'dry-run' });
    assert.equal(dry.statusCode, 303);
    assert.match((await followRedirect(t, dry, admin)).body, /could not be read/);
    assert.equal((await getSource(t.ctx, SYSTEM_ACTOR, co.id, source.id)).lastError, null, 'a dry run records nothing');
    await upsertSourcePerson(t.ctx, source, { externalId: '1', status: 'active', names: [{ given: 'Gil', type: 'official' }], identifiers: [], emails: [] });
    const confirm = await get(t, `/cos/${co.id}/sources/${source.id}/terminate`, admin);
    assert.match(confirm.body, /<strong>1<\/strong> people/);
    const unconfirmed = await post(t, `/cos/${co.id}/sources/${source.id}/terminate`, admin, {});
    assert.equal(unconfirmed.statusCode, 400);
    assert.equal((await getSource(t.ctx, SYSTEM_ACTOR, co.id, source.id)).status, 'active');
    const done = await post(t, `/cos/${co.id}/sources/${source.id}/terminate`, admin, { confirm: 'yes' });
    assert.equal(done.statusCode, 303);
    assert.equal((await getSource(t.ctx, SYSTEM_ACTOR, co.id, source.id)).status, 'terminated');
    assert.equal((await t.db.selectFrom('co_person').select('id').where('source_id', '=', source.id).execute()).length, 0);
  });

  it('keeps source-owned fields read-only: the person page says where they come from, forms and the API answer 409', async () => {
    const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'owner', settings: { databaseUrl: UNREACHABLE } });
    const { personId } = await upsertSourcePerson(t.ctx, source, { externalId: '77', status: 'active', names: [{ given: 'Ona', family: 'Owned', type: 'official' }], identifiers: [{ identifier: 'ona', type: 'uid', login: true }], emails: [] });
    const page = await get(t, `/cos/${co.id}/people/${personId}`, admin);
    assert.match(page.body, /comes from the source/);
    assert.match(page.body, /owner/);
    assert.match(page.body, /from the source/);
    const status = await post(t, `/cos/${co.id}/people/${personId}/status`, admin, { status: 'suspended' });
    assert.ok([404, 409].includes(status.statusCode) || /comes from source owner/.test(status.body), `status ${status.statusCode}`);
    const api = await buildApiUser(t, co.id, true);
    const person = (await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/people/${personId}`, headers: { authorization: api.authorization } })).json() as { source: { name: string }; identifiers: Array<{ id: string; sourceId: string }> };
    assert.equal(person.source.name, 'owner');
    assert.equal(person.identifiers[0]!.sourceId, source.id);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/cos/${co.id}/people/${personId}/identifiers/${person.identifiers[0]!.id}`, headers: { authorization: api.authorization } });
    assert.equal(del.statusCode, 409);
    assert.equal((del.json() as { error: { code: string } }).error.code, 'SOURCE_OWNED');
    const put = await t.app.inject({ method: 'PUT', url: `/api/v1/cos/${co.id}/people/${personId}/status`, headers: { authorization: api.authorization }, payload: { status: 'suspended' } });
    assert.equal(put.statusCode, 409);
    const runs = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${co.id}/sources/owner/runs`, headers: { authorization: api.authorization }, payload: { dryRun: true } });
    assert.equal(runs.statusCode, 422);
    assert.equal((runs.json() as { error: { code: string } }).error.code, 'SOURCE_RUN_FAILED');
    const listed = await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/sources`, headers: { authorization: api.authorization } });
    assert.equal(listed.statusCode, 200);
    assert.ok(!listed.body.includes('s3cret-pw'));
  });

  it('shows a source-owned group read-only: no edit or delete, its memberships marked, local ones removable', async () => {
    const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'groups-from-registry', settings: { databaseUrl: UNREACHABLE } });
    const { personId: fromSource } = await upsertSourcePerson(t.ctx, source, { externalId: 'p1', status: 'active', names: [{ given: 'Ida', type: 'official' }], identifiers: [], emails: [] });
    const { groupId } = await upsertSourceGroup(t.ctx, source, { externalId: 'g1', name: 'Registry group' });
    await setSourceGroupMembers(t.ctx, source, { externalId: 'g1' }, [{ personExternalId: 'p1' }]);
    const local = await buildPerson(t, co.id, { username: 'local-member' });
    const localMembership = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, groupId!, { personId: local.id, member: true, owner: false });
    const sourceMembership = await t.db.selectFrom('co_group_member').select('id').where('group_id', '=', groupId!).where('person_id', '=', fromSource).executeTakeFirstOrThrow();
    const page = await get(t, `/cos/${co.id}/groups/${groupId}`, admin);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`This group comes from <a href="/cos/${co.id}/sources/${source.id}">a source</a>`));
    assert.ok(!page.body.includes(`/groups/${groupId}/edit`), 'no Edit link');
    assert.ok(!page.body.includes(`/groups/${groupId}/delete`), 'no Delete button');
    assert.ok(!page.body.includes(`/members/${sourceMembership.id}/delete`), 'the source membership has no Remove button');
    assert.match(page.body, /from the source/);
    assert.ok(page.body.includes(`/members/${localMembership.id}/delete`), 'the local membership can be removed');
    const refused = await post(t, `/cos/${co.id}/groups/${groupId}/members/${sourceMembership.id}/delete`, admin, {});
    assert.equal(refused.statusCode, 409);
  });
});
