import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { setupPlatformAdmin } from '../auth/setup.service.ts';
import type { TesseraPlugin } from '../plugins/plugin.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, fieldValue, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';
import { findPlatformCo, type Co } from './co.repository.ts';

const menuPlugin: TesseraPlugin = {
  id: 'menu-test',
  description: 'Adds menu entries',
  setup: () => ({
    menus: {
      coConfiguration: ({ co }) => [{ label: 'Token settings', href: `/cos/${co.id}/token-settings` }],
      identity: ({ co }) => [{ label: 'Service tokens', href: `/cos/${co.id}/my-tokens` }],
    },
  }),
};

forEachDialect('CO pages', (dialect) => {
  const t = useTestApp(dialect, { plugins: [menuPlugin] });
  let root: Browser;
  let coA: Co;
  let coB: Co;
  let adminA: Browser;
  let memberA: Browser;
  let memberAPersonId: string;
  let adminB: Browser;

  before(async () => {
    await setupPlatformAdmin(t.ctx, { username: 'root', password: 'correct horse battery', givenName: 'Rita', familyName: 'Root' });
    root = await signIn(t, 'root');
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    adminA = await signIn(t, (await buildPerson(t, coA.id, { admin: true, given: 'Alice' })).username);
    const member = await buildPerson(t, coA.id, { given: 'Mo', family: 'Member' });
    memberAPersonId = member.id;
    memberA = await signIn(t, member.username);
    adminB = await signIn(t, (await buildPerson(t, coB.id, { admin: true })).username);
  });

  async function coCount(): Promise<number> {
    return (await t.ctx.db.selectFrom('co').select('id').execute()).length;
  }

  it('signs in: a wrong password re-renders 401 without a session; the right one redirects to the COs', async () => {
    const page = await get(t, '/sign-in?next=/cos');
    assert.equal(page.statusCode, 200);
    const csrfCookie = [page.headers['set-cookie']].flat().find((c) => c?.startsWith('tessera_csrf='))!.split(';')[0]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const send = (password: string) =>
      t.app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: token, username: 'root', password, next: '/cos' }).toString(),
      });

    const wrong = await send('wrong password');
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /The username or password is wrong/);
    assert.equal(fieldValue(wrong.body, 'f-username'), 'root', 'the username stays typed');
    assert.ok(![wrong.headers['set-cookie']].flat().some((c) => c?.startsWith('tessera_session=')), 'no session cookie');

    const right = await send('correct horse battery');
    assert.equal(right.statusCode, 303);
    assert.equal(right.headers.location, '/cos');
    const session = [right.headers['set-cookie']].flat().find((c) => c?.startsWith('tessera_session='))!.split(';')[0]!;
    const platform = (await findPlatformCo(t.ctx.db))!;
    const dashboard = await t.app.inject({ url: `/cos/${platform.id}`, headers: { cookie: `${session}; ${csrfCookie}` } });
    assert.equal(dashboard.statusCode, 200);
    assert.match(dashboard.body, /<summary>Rita Root<\/summary>/);
    assert.match(dashboard.body, /Your CO Person page/);
  });

  it('asks anonymous visitors to sign in, with a link back', async () => {
    for (const url of ['/cos', `/cos/${coA.id}`, `/cos/${coA.id}/people`]) {
      const res = await get(t, url);
      assert.equal(res.statusCode, 401, url);
      assert.ok(res.body.includes(`/sign-in?next=${encodeURIComponent(url)}`), url);
    }
  });

  it('refuses a POST without or with a wrong CSRF token, changing nothing', async () => {
    const before = await coCount();
    for (const csrf of ['', 'forged-token']) {
      const res = await post(t, '/cos', root, { _csrf: csrf, name: `Sneaky ${csrf}` });
      assert.equal(res.statusCode, 403);
      assert.match(res.body, /form has expired/);
    }
    const noBody = await t.app.inject({ method: 'POST', url: '/cos', headers: root.headers });
    assert.equal(noBody.statusCode, 403);
    assert.equal(await coCount(), before);
  });

  it('lists every CO for platform admins, with the New CO form', async () => {
    const res = await get(t, '/cos', root);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Astronomy/);
    assert.match(res.body, /Biology/);
    assert.match(res.body, /<h2 id="new-co">New CO<\/h2>/);
  });

  it('lists only their own COs to others, without the form', async () => {
    const res = await get(t, '/cos', memberA);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Astronomy/);
    assert.doesNotMatch(res.body, /Biology/);
    assert.doesNotMatch(res.body, /New CO/);
    const before = await coCount();
    const create = await post(t, '/cos', adminA, { name: 'Not allowed' });
    assert.equal(create.statusCode, 403);
    assert.equal(await coCount(), before);
  });

  it('tells a person in no CO what to do', async () => {
    const nobody = await signIn(t, 'nobody-at-all');
    const res = await get(t, '/cos', nobody);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /not a person in any CO yet/);
  });

  it('creates a CO, and re-renders the form on invalid input and on a duplicate name', async () => {
    const created = await post(t, '/cos', root, { name: 'Chemistry', description: 'Molecules' });
    const page = await followRedirect(t, created, root);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /CO Chemistry created\./);
    const row = await t.ctx.db.selectFrom('co').selectAll().where('name', '=', 'Chemistry').executeTakeFirstOrThrow();
    assert.equal(row.description, 'Molecules');
    assert.equal(created.headers.location, `/cos/${row.id}`);
    const groups = await t.ctx.db.selectFrom('co_group').select('group_type').where('co_id', '=', row.id).orderBy('group_type').execute();
    assert.deepEqual(groups.map((g) => g.group_type), ['admins', 'members']);

    const duplicate = await post(t, '/cos', root, { name: 'Chemistry', description: 'Second try' });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(fieldMessage(duplicate.body, 'f-name'), 'A CO with this name exists already');
    assert.equal(fieldValue(duplicate.body, 'f-description'), 'Second try');

    const empty = await post(t, '/cos', root, { name: '  ', description: 'Nameless' });
    assert.equal(empty.statusCode, 400);
    assert.equal(fieldMessage(empty.body, 'f-name'), 'Required');
    assert.equal(fieldValue(empty.body, 'f-description'), 'Nameless');

    const control = await post(t, '/cos', root, { name: 'Nul\u0000byte' });
    assert.equal(control.statusCode, 400);
    assert.equal(fieldMessage(control.body, 'f-name'), 'Contains control characters');
    assert.equal((await t.ctx.db.selectFrom('co').select('id').where('description', 'in', ['Second try', 'Nameless']).execute()).length, 0);
  });

  it('shows the configuration menu, with plugin entries, to CO admins only', async () => {
    const admin = await get(t, `/cos/${coA.id}`, adminA);
    assert.equal(admin.statusCode, 200);
    for (const entry of ['people', 'groups', 'services', 'api-users', 'identifier-types', 'history', 'token-settings']) {
      assert.ok(admin.body.includes(`href="/cos/${coA.id}/${entry}"`), entry);
    }
    assert.doesNotMatch(admin.body, /Edit CO/);

    const member = await get(t, `/cos/${coA.id}`, memberA);
    assert.equal(member.statusCode, 200);
    assert.doesNotMatch(member.body, /Configuration/);
    assert.ok(member.body.includes(`href="/cos/${coA.id}/people/${memberAPersonId}"`));
    assert.ok(member.body.includes(`href="/cos/${coA.id}/my-tokens"`));
    assert.ok(!member.body.includes(`href="/cos/${coA.id}/token-settings"`));

    const platform = await get(t, `/cos/${coA.id}`, root);
    assert.match(platform.body, /Edit CO/);
  });

  it('answers 404 to people of another CO and for unknown or malformed ids', async () => {
    for (const url of [`/cos/${coA.id}`, `/cos/${coA.id}/edit`, `/cos/${coA.id}/people`, `/cos/${coA.id}/groups`, `/cos/${coA.id}/services`, `/cos/${coA.id}/history`]) {
      const res = await get(t, url, adminB);
      assert.equal(res.statusCode, 404, url);
    }
    assert.equal((await get(t, '/cos/not-an-id', root)).statusCode, 404);
    assert.equal((await get(t, '/cos/00000000-0000-4000-8000-000000000000', root)).statusCode, 404);
  });

  it('lets platform admins edit a CO; CO admins get 403 and change nothing', async () => {
    const co = await buildCo(t, 'Geology');
    const geoAdmin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
    assert.equal((await get(t, `/cos/${co.id}/edit`, geoAdmin)).statusCode, 403);
    assert.equal((await post(t, `/cos/${co.id}/edit`, geoAdmin, { name: 'Hijacked', description: '', status: 'suspended' })).statusCode, 403);
    assert.equal((await t.ctx.db.selectFrom('co').select('name').where('id', '=', co.id).executeTakeFirstOrThrow()).name, 'Geology');

    const form = await get(t, `/cos/${co.id}/edit`, root);
    assert.equal(form.statusCode, 200);
    assert.equal(fieldValue(form.body, 'f-name'), 'Geology');
    assert.equal(fieldValue(form.body, 'f-status'), 'active');

    const invalid = await post(t, `/cos/${co.id}/edit`, root, { name: '', description: 'Rocks', status: 'active' });
    assert.equal(invalid.statusCode, 400);
    assert.equal(fieldMessage(invalid.body, 'f-name'), 'Required');
    assert.equal(fieldValue(invalid.body, 'f-description'), 'Rocks');

    const taken = await post(t, `/cos/${co.id}/edit`, root, { name: 'Astronomy', description: 'Rocks', status: 'active' });
    assert.equal(taken.statusCode, 409);
    assert.equal(fieldMessage(taken.body, 'f-name'), 'A CO with this name exists already');

    const saved = await followRedirect(t, await post(t, `/cos/${co.id}/edit`, root, { name: 'Earth sciences', description: 'Rocks', status: 'suspended' }), root);
    assert.match(saved.body, /CO Earth sciences saved\./);
    const row = await t.ctx.db.selectFrom('co').selectAll().where('id', '=', co.id).executeTakeFirstOrThrow();
    assert.deepEqual([row.name, row.description, row.status], ['Earth sciences', 'Rocks', 'suspended']);
  });

  it('keeps the platform CO active', async () => {
    const platform = (await findPlatformCo(t.ctx.db))!;
    const form = await get(t, `/cos/${platform.id}/edit`, root);
    assert.equal(fieldValue(form.body, 'f-status'), undefined, 'no status field');
    const res = await post(t, `/cos/${platform.id}/edit`, root, { name: platform.name, description: '', status: 'suspended' });
    assert.equal(res.statusCode, 422);
    assert.match(res.body, /The platform CO cannot be changed this way/);
    assert.equal((await t.ctx.db.selectFrom('co').select('status').where('id', '=', platform.id).executeTakeFirstOrThrow()).status, 'active');
  });

  it('escapes CO names and descriptions on every page that shows them', async () => {
    const res = await post(t, '/cos', root, { name: `Evil ${XSS}`, description: `About ${XSS}` });
    const co = await t.ctx.db.selectFrom('co').select('id').where('name', '=', `Evil ${XSS}`).executeTakeFirstOrThrow();
    assertEscaped((await followRedirect(t, res, root)).body, 'dashboard with flash');
    for (const url of ['/cos', `/cos/${co.id}`, `/cos/${co.id}/edit`, `/cos/${co.id}/people`, `/cos/${co.id}/history`]) {
      const page = await get(t, url, root);
      assert.equal(page.statusCode, 200, url);
      assertEscaped(page.body, url);
    }
    const edit = await get(t, `/cos/${co.id}/edit`, root);
    assert.equal(fieldValue(edit.body, 'f-name'), `Evil ${XSS}`);
  });
});
