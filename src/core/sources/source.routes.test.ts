import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { ensurePlatformCo, type Co } from '../cos/co.service.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, signIn, useTestApp, type Browser } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';
import { upsertSourcePerson } from './source-person.writer.ts';
import { setSourceGroupMembers, upsertSourceGroup } from './source-group.writer.ts';
import { addMembership } from '../groups/group.service.ts';
import { addSource, getSource, sourceSettings } from './source.service.ts';

const UNREACHABLE = 'postgres://reader:s3cret-pw@127.0.0.1:1/registry';

forEachDialect('Sources pages and API', (dialect) => {
  const t = useTestApp(dialect);
  let co: Co;
  let admin: Browser;
  /** A platform admin: only they add a COmanage SQL source or change its settings (its URL names a host Tessera connects to). */
  let platformAdmin: Browser;

  before(async () => {
    co = await buildCo(t);
    admin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
    platformAdmin = await signIn(t, (await buildPerson(t, (await ensurePlatformCo(t.ctx)).id, { admin: true })).username);
  });

  it('adds a source through the form, re-rendering bad input without echoing the URL, and never shows the password', async () => {
    const coAdmin = await post(t, `/cos/${co.id}/sources`, admin, { name: 'probe', databaseUrl: 'postgres://u:p@10.1.2.3:5432/db', prefix: 'sp_', layout: 'v4' });
    assert.equal(coAdmin.statusCode, 403, 'a CO admin cannot make Tessera connect to a host of their choosing');
    assert.match(coAdmin.body, /Only platform admins add a comanage-sql source/);
    assert.equal((await t.db.selectFrom('source').select('id').where('co_id', '=', co.id).execute()).length, 0);
    const listed = await get(t, `/cos/${co.id}/sources`, admin);
    assert.ok(!listed.body.includes(`href="/cos/${co.id}/sources/new"`), 'no link the CO admin could not use');
    assert.match(listed.body, /A platform admin adds COmanage Registry sources/);
    assert.ok(listed.body.includes(`href="/cos/${co.id}/sources/new-scim"`), 'a SCIM source needs no outbound connection: CO admins add it');
    const bad = await post(t, `/cos/${co.id}/sources`, platformAdmin, { name: XSS, databaseUrl: 'http://registry.example.org/x?pw=hunter2', prefix: 'sp_', layout: 'v4' });
    assert.equal(bad.statusCode, 400);
    assert.ok(fieldMessage(bad.body, 'f-name'));
    assert.ok(!bad.body.includes('hunter2'), 'the URL (it may hold a password) is not sent back');
    assertEscaped(bad.body, 'the re-rendered form');
    const ok = await post(t, `/cos/${co.id}/sources`, platformAdmin, { name: 'registry', databaseUrl: UNREACHABLE, prefix: 'sp_', layout: 'v4' });
    assert.equal(ok.statusCode, 303, ok.body);
    const page = await followRedirect(t, ok, platformAdmin);
    assert.match(page.body, /Source registry added/);
    assert.match(page.body, /postgres:\/\/reader:\*\*\*\*@127\.0\.0\.1:1\/registry/);
    assert.ok(!page.body.includes('s3cret-pw'));
    const row = await t.db.selectFrom('source').select('settings_encrypted').where('co_id', '=', co.id).executeTakeFirstOrThrow();
    assert.ok(!row.settings_encrypted.includes('s3cret-pw'), 'stored encrypted');
    const list = await get(t, `/cos/${co.id}/sources`, platformAdmin);
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /registry/);
    const taken = await post(t, `/cos/${co.id}/sources`, platformAdmin, { name: 'registry', databaseUrl: UNREACHABLE, layout: 'v4' });
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

  it('changes some settings through the API, keeping the others; refuses bad values and a terminated source, changing nothing', async () => {
    const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'rotated', settings: { databaseUrl: UNREACHABLE, prefix: 'cm_sp_', layout: 'v4' } });
    const coApi = await buildApiUser(t, co.id, true);
    const probe = await t.app.inject({ method: 'PATCH', url: `/api/v1/cos/${co.id}/sources/${source.id}`, headers: { authorization: coApi.authorization }, payload: { settings: { databaseUrl: 'postgres://u:p@10.1.2.3:22/db' } } });
    assert.equal(probe.statusCode, 403, 'a privileged API user of the CO cannot point the source at another host');
    assert.equal(probe.json().error.code, 'FORBIDDEN');
    const api = await buildApiUser(t, (await ensurePlatformCo(t.ctx)).id, true);
    const patch = (payload: Record<string, unknown>) => t.app.inject({ method: 'PATCH', url: `/api/v1/cos/${co.id}/sources/${source.id}`, headers: { authorization: api.authorization }, payload });
    const before = await t.db.selectFrom('source').select('settings_encrypted').where('id', '=', source.id).executeTakeFirstOrThrow();

    const bad = await patch({ settings: { layout: 'v9' } });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().error.code, 'VALIDATION_FAILED');
    assert.deepEqual(await t.db.selectFrom('source').select('settings_encrypted').where('id', '=', source.id).executeTakeFirstOrThrow(), before);

    const ok = await patch({ settings: { databaseUrl: 'postgres://reader:n3w-pw@db.example.org:5432/registry' } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(!ok.body.includes('n3w-pw'), 'the password is not sent back');
    assert.match(ok.json().settings, /db\.example\.org/);
    const stored = await sourceSettings(t.ctx, await getSource(t.ctx, SYSTEM_ACTOR, co.id, source.id));
    assert.deepEqual(stored, { databaseUrl: 'postgres://reader:n3w-pw@db.example.org:5432/registry', prefix: 'cm_sp_', layout: 'v4' });
    const history = await t.db.selectFrom('history_record').select('comment').where('co_id', '=', co.id).where('action', '=', 'SOURCE_SETTINGS_CHANGED').execute();
    assert.equal(history.length, 1);
    assert.match(history[0]!.comment!, /databaseUrl/);
    assert.ok(!history[0]!.comment!.includes('n3w-pw'));

    const unprivileged = await buildApiUser(t, co.id, false);
    const refused = await t.app.inject({ method: 'PATCH', url: `/api/v1/cos/${co.id}/sources/${source.id}`, headers: { authorization: unprivileged.authorization }, payload: { settings: { prefix: 'x_' } } });
    assert.equal(refused.statusCode, 403);

    await post(t, `/cos/${co.id}/sources/${source.id}/terminate`, admin, { confirm: 'yes' });
    const terminated = await patch({ settings: { prefix: 'x_' } });
    assert.equal(terminated.statusCode, 422, terminated.body);
    assert.equal(terminated.json().error.code, 'SOURCE_NOT_ACTIVE');
  });

  it('changes settings on the web: the form shows the prefix and layout but never the URL, re-renders bad input, keeps the URL when left empty', async () => {
    const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'web-settings', settings: { databaseUrl: UNREACHABLE, prefix: 'cm_sp_', layout: 'v4' } });
    const base = `/cos/${co.id}/sources/${source.id}`;
    const byCoAdmin = await post(t, `${base}/settings`, admin, { databaseUrl: 'postgres://u:p@10.1.2.3:22/db', prefix: 'sp_', layout: 'v4' });
    assert.equal(byCoAdmin.statusCode, 403);
    assert.match((await get(t, base, platformAdmin)).body, new RegExp(`href="${base}/settings"`));
    const form = await get(t, `${base}/settings`, platformAdmin);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /value="cm_sp_"/);
    assert.ok(!form.body.includes('s3cret-pw'), 'the stored URL is not shown');
    const stored = async () => sourceSettings(t.ctx, await getSource(t.ctx, SYSTEM_ACTOR, co.id, source.id));

    const bad = await post(t, `${base}/settings`, platformAdmin, { databaseUrl: 'postgres://reader:typo-pw@db.example.org/registry', prefix: '', layout: 'v4' });
    assert.equal(bad.statusCode, 400);
    assert.ok(fieldMessage(bad.body, 'f-prefix'));
    assert.ok(!bad.body.includes('typo-pw'), 'the posted URL is not sent back');
    assert.deepEqual(await stored(), { databaseUrl: UNREACHABLE, prefix: 'cm_sp_', layout: 'v4' });

    const kept = await post(t, `${base}/settings`, platformAdmin, { databaseUrl: '', prefix: 'sp2_', layout: 'v5' });
    assert.equal(kept.statusCode, 303, kept.body);
    assert.deepEqual(await stored(), { databaseUrl: UNREACHABLE, prefix: 'sp2_', layout: 'v5' });
    const rotated = await post(t, `${base}/settings`, platformAdmin, { databaseUrl: 'postgres://reader:n3w-pw@db.example.org:5432/registry', prefix: 'sp2_', layout: 'v5' });
    assert.equal(rotated.statusCode, 303);
    assert.match((await followRedirect(t, rotated, platformAdmin)).body, /Settings of web-settings saved/);
    assert.equal((await stored()).databaseUrl, 'postgres://reader:n3w-pw@db.example.org:5432/registry');
  });
});
