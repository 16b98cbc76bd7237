import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Co } from '../cos/co.service.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, fieldValue, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';

forEachDialect('CO Service pages', (dialect) => {
  const t = useTestApp(dialect);
  let coA: Co;
  let coB: Co;
  let admin: Browser;
  let member: Browser;
  let adminB: Browser;
  let groupA: string;
  let groupB: string;

  const full = (over: Record<string, string> = {}) => ({
    name: 'Wiki',
    description: 'The team wiki',
    shortLabel: 'wiki',
    coGroupId: groupA,
    serviceUrl: 'https://wiki.example.org/',
    contactEmail: 'wiki-admin@example.org',
    logoUrl: 'https://wiki.example.org/logo.png',
    entitlementUri: 'urn:mace:example.org:wiki',
    visibility: 'co_group_member',
    identifierType: 'eppn',
    status: 'active',
    ...over,
  });

  before(async () => {
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    admin = await signIn(t, (await buildPerson(t, coA.id, { admin: true })).username);
    member = await signIn(t, (await buildPerson(t, coA.id)).username);
    adminB = await signIn(t, (await buildPerson(t, coB.id, { admin: true })).username);
    await post(t, `/cos/${coA.id}/groups`, admin, { name: 'Editors', status: 'active' });
    groupA = (await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coA.id).where('name', '=', 'Editors').executeTakeFirstOrThrow()).id;
    groupB = (await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coB.id).where('group_type', '=', 'admins').executeTakeFirstOrThrow()).id;
  });

  const services = (coId: string) => `/cos/${coId}/services`;
  async function serviceRows(coId: string) {
    return t.ctx.db.selectFrom('co_service').selectAll().where('co_id', '=', coId).orderBy('name').execute();
  }

  it('says what to do when there are no services, to admins only', async () => {
    const res = await get(t, services(coA.id), admin);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /No services yet — <a href="[^"]+\/services\/new">create the first one<\/a>/);
    assert.equal((await get(t, services(coA.id), member)).statusCode, 403);
    assert.equal((await get(t, `${services(coA.id)}/new`, member)).statusCode, 403);
    assert.equal((await get(t, services(coA.id), adminB)).statusCode, 404);
  });

  it('creates a service with every field', async () => {
    const form = await get(t, `${services(coA.id)}/new`, admin);
    assert.ok(form.body.includes(`<option value="${groupA}">Editors</option>`));
    assert.ok(!form.body.includes(groupB), 'another CO’s groups are not offered');
    const res = await post(t, services(coA.id), admin, full());
    const page = await followRedirect(t, res, admin);
    assert.match(page.body, /Service Wiki created\./);
    const [row] = await serviceRows(coA.id);
    assert.equal(res.headers.location, `${services(coA.id)}/${row!.id}`);
    assert.deepEqual(
      [row!.name, row!.description, row!.short_label, row!.co_group_id, row!.service_url, row!.contact_email, row!.logo_url, row!.entitlement_uri, row!.visibility, row!.identifier_type, row!.status],
      ['Wiki', 'The team wiki', 'wiki', groupA, 'https://wiki.example.org/', 'wiki-admin@example.org', 'https://wiki.example.org/logo.png', 'urn:mace:example.org:wiki', 'co_group_member', 'eppn', 'active'],
    );
    for (const text of ['The team wiki', 'urn:mace:example.org:wiki', 'wiki-admin@example.org', 'Editors', 'SERVICE_CREATED']) assert.ok(page.body.includes(text), text);
  });

  it('edits every field, keeping them in the form', async () => {
    const [row] = await serviceRows(coA.id);
    const url = `${services(coA.id)}/${row!.id}`;
    const form = await get(t, `${url}/edit`, admin);
    for (const [field, value] of Object.entries(full())) assert.equal(fieldValue(form.body, `f-${field}`), value, field);

    await followRedirect(t, await post(t, `${url}/edit`, admin, full({ name: 'Wiki 2', description: '', shortLabel: 'Wiki2', coGroupId: '', serviceUrl: '', contactEmail: '', logoUrl: '', entitlementUri: '', visibility: 'co_member', identifierType: 'uid', status: 'suspended' })), admin);
    const after = (await serviceRows(coA.id))[0]!;
    assert.deepEqual(
      [after.name, after.description, after.short_label, after.co_group_id, after.service_url, after.contact_email, after.logo_url, after.entitlement_uri, after.visibility, after.identifier_type, after.status],
      ['Wiki 2', '', 'Wiki2', null, null, null, null, null, 'co_member', 'uid', 'suspended'],
    );
    await post(t, `${url}/edit`, admin, full());
  });

  it('re-renders invalid input with messages and the typed values, and refuses a duplicate short label (409)', async () => {
    const before = (await serviceRows(coA.id)).length;
    const invalid = await post(t, services(coA.id), admin, full({ name: '', shortLabel: 'has space', serviceUrl: 'javascript:alert(1)', contactEmail: 'nope', description: 'Kept' }));
    assert.equal(invalid.statusCode, 400);
    assert.equal(fieldMessage(invalid.body, 'f-name'), 'Required');
    assert.equal(fieldMessage(invalid.body, 'f-shortLabel'), 'Letters and digits only (1 to 64)');
    assert.ok(fieldMessage(invalid.body, 'f-serviceUrl'));
    assert.equal(fieldMessage(invalid.body, 'f-contactEmail'), 'Not an email address');
    assert.equal(fieldValue(invalid.body, 'f-description'), 'Kept');
    assert.equal(fieldValue(invalid.body, 'f-shortLabel'), 'has space');
    assert.equal(fieldValue(invalid.body, 'f-coGroupId'), groupA);

    const dup = await post(t, services(coA.id), admin, full({ name: 'Another wiki', shortLabel: 'WIKI' }));
    assert.equal(dup.statusCode, 409);
    assert.equal(fieldMessage(dup.body, 'f-shortLabel'), 'Another service of this CO has this short label (ignoring case)');
    assert.equal(fieldValue(dup.body, 'f-name'), 'Another wiki');

    const noGroup = await post(t, services(coA.id), admin, full({ shortLabel: 'nogroup', coGroupId: '' }));
    assert.equal(noGroup.statusCode, 400);
    assert.equal(fieldMessage(noGroup.body, 'f-coGroupId'), 'Choose the group whose members see the service');

    const badType = await post(t, services(coA.id), admin, full({ shortLabel: 'badtype', identifierType: 'nosuch' }));
    assert.equal(badType.statusCode, 400);
    assert.ok(fieldMessage(badType.body, 'f-identifierType'));
    assert.equal((await serviceRows(coA.id)).length, before);

    // The same short label in another CO is fine.
    await followRedirect(t, await post(t, services(coB.id), adminB, full({ coGroupId: groupB })), adminB);
  });

  it('suspends, reactivates and deletes (with confirmation) a service', async () => {
    await post(t, services(coA.id), admin, full({ name: 'Mail', shortLabel: 'mail', visibility: 'co_member', coGroupId: '' }));
    const mail = (await serviceRows(coA.id)).find((s) => s.name === 'Mail')!;
    const url = `${services(coA.id)}/${mail.id}`;
    const page = await get(t, url, admin);
    assert.match(page.body, /data-confirm="Delete Mail for good\?/);
    assert.match(page.body, /data-confirm="Suspend Mail\?/);

    const suspended = await followRedirect(t, await post(t, `${url}/suspend`, admin), admin);
    assert.match(suspended.body, /Service Mail suspended\./);
    assert.match(suspended.body, /Reactivate/);
    assert.equal((await t.ctx.db.selectFrom('co_service').select('status').where('id', '=', mail.id).executeTakeFirstOrThrow()).status, 'suspended');
    await followRedirect(t, await post(t, `${url}/reactivate`, admin), admin);
    assert.equal((await t.ctx.db.selectFrom('co_service').select('status').where('id', '=', mail.id).executeTakeFirstOrThrow()).status, 'active');

    const deleted = await followRedirect(t, await post(t, `${url}/delete`, admin), admin);
    assert.match(deleted.body, /Service Mail deleted\./);
    assert.equal((await t.ctx.db.selectFrom('co_service').select('id').where('id', '=', mail.id).execute()).length, 0);
  });

  it('keeps other COs’ services and groups out of reach (404) and members out (403), changing nothing', async () => {
    const bService = (await serviceRows(coB.id))[0]!;
    const aService = (await serviceRows(coA.id))[0]!;
    for (const action of ['', '/edit']) assert.equal((await get(t, `${services(coA.id)}/${bService.id}${action}`, admin)).statusCode, 404, action);
    for (const action of ['suspend', 'reactivate', 'delete']) {
      assert.equal((await post(t, `${services(coA.id)}/${bService.id}/${action}`, admin)).statusCode, 404, action);
      assert.equal((await post(t, `${services(coA.id)}/${aService.id}/${action}`, member)).statusCode, 403, action);
    }
    assert.equal((await post(t, `${services(coA.id)}/${bService.id}/edit`, admin, full({ name: 'Hijacked', coGroupId: '', visibility: 'co_member' }))).statusCode, 404);
    const withForeignGroup = await post(t, services(coA.id), admin, full({ name: 'Foreign', shortLabel: 'foreign', coGroupId: groupB }));
    assert.equal(withForeignGroup.statusCode, 404);
    assert.equal(fieldMessage(withForeignGroup.body, 'f-coGroupId'), 'No such group in this CO');
    assert.equal((await get(t, `${services(coA.id)}/not-an-id`, admin)).statusCode, 404);

    const bAfter = (await serviceRows(coB.id))[0]!;
    assert.deepEqual([bAfter.name, bAfter.status], [bService.name, 'active']);
    const aAfter = (await serviceRows(coA.id))[0]!;
    assert.deepEqual([aAfter.name, aAfter.status], [aService.name, aService.status]);
    assert.equal((await t.ctx.db.selectFrom('co_service').select('id').where('name', '=', 'Foreign').execute()).length, 0);
  });

  it('escapes service names and descriptions on every page that shows them', async () => {
    const res = await post(t, services(coA.id), admin, full({ name: `Evil ${XSS}`, description: `Says ${XSS}`, shortLabel: 'evil', entitlementUri: XSS }));
    const page = await followRedirect(t, res, admin);
    assertEscaped(page.body, 'service page');
    const id = String(res.headers.location).split('/').pop()!;
    for (const url of [services(coA.id), `${services(coA.id)}/${id}/edit`, `/cos/${coA.id}/history`]) assertEscaped((await get(t, url, admin)).body, url);
    const edit = await get(t, `${services(coA.id)}/${id}/edit`, admin);
    assert.equal(fieldValue(edit.body, 'f-description'), `Says ${XSS}`);
  });
});
