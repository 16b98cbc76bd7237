import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { setupPlatformAdmin } from '../auth/setup.service.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { get, post } from '../../../test/support/web-pages.ts';

// Every field name any registry form has, so each hostile value reaches every parser.
const FIELDS = [
  'name', 'description', 'status', 'given', 'middle', 'family', 'suffix', 'type', 'primary', 'identifier', 'identifierType', 'login', 'mail',
  'verified', 'personId', 'owner', 'validFrom', 'validThrough', 'shortLabel', 'coGroupId', 'serviceUrl', 'contactEmail', 'logoUrl',
  'entitlementUri', 'visibility', 'username', 'privileged', 'allowedAddresses', 'q', 'page', 'pageSize',
];

forEachDialect('Web UI robustness', (dialect) => {
  const t = useTestApp(dialect);
  let root: Browser;
  let urls: { get: string[]; post: string[]; destroy: string[] };

  before(async () => {
    await setupPlatformAdmin(t.ctx, { username: 'root', givenName: 'Root' });
    root = await signIn(t, 'root');
    const co = await buildCo(t, 'Fuzz');
    const other = await buildCo(t, 'Elsewhere');
    const person = await buildPerson(t, co.id, { email: 'p@example.org' });
    await buildPerson(t, other.id);
    await post(t, `/cos/${co.id}/groups`, root, { name: 'Fuzzers', status: 'active' });
    await post(t, `/cos/${co.id}/services`, root, { name: 'Svc', shortLabel: 'svc', visibility: 'co_member', identifierType: 'uid', status: 'active' });
    await post(t, `/cos/${co.id}/api-users`, root, { username: 'fuzz-bot' });
    const db = t.ctx.db;
    const group = await db.selectFrom('co_group').select('id').where('co_id', '=', co.id).where('name', '=', 'Fuzzers').executeTakeFirstOrThrow();
    const members = await db.selectFrom('co_group').select('id').where('co_id', '=', co.id).where('group_type', '=', 'members').executeTakeFirstOrThrow();
    await post(t, `/cos/${co.id}/groups/${group.id}/members`, root, { personId: person.id });
    const membership = await db.selectFrom('co_group_member').select('id').where('group_id', '=', group.id).executeTakeFirstOrThrow();
    const service = await db.selectFrom('co_service').select('id').where('co_id', '=', co.id).executeTakeFirstOrThrow();
    const apiUser = await db.selectFrom('api_user').select('id').where('co_id', '=', co.id).executeTakeFirstOrThrow();
    const c = `/cos/${co.id}`;
    const p = `${c}/people/${person.id}`;
    const ident = person.identifiers[0]!.id;
    const email = person.emails[0]!.id;
    const name = person.names[0]!.id;
    urls = {
      get: [
        '/cos', c, `${c}/edit`, `${c}/people`, `${c}/people/new`, p, `${c}/identifier-types`, `${c}/groups`, `${c}/groups/new`, `${c}/groups/${group.id}`,
        `${c}/groups/${group.id}/edit`, `${c}/groups/${members.id}`, `${c}/services`, `${c}/services/new`, `${c}/services/${service.id}`,
        `${c}/services/${service.id}/edit`, `${c}/api-users`, `${c}/api-users/new`, `${c}/history`,
      ],
      post: [
        '/cos', `${c}/edit`, `${c}/people`, `${p}/status`, `${p}/names`, `${p}/identifiers`, `${p}/emails`, `${c}/identifier-types`, `${c}/groups`,
        `${c}/groups/${group.id}/edit`, `${c}/groups/${members.id}/edit`, `${c}/groups/${group.id}/members`, `${c}/groups/${members.id}/members`,
        `${c}/services`, `${c}/services/${service.id}/edit`, `${c}/api-users`,
      ],
      destroy: [
        `${p}/names/${name}/delete`, `${p}/identifiers/${ident}/delete`, `${p}/emails/${email}/delete`, `${c}/groups/${group.id}/members/${membership.id}/delete`,
        `${c}/services/${service.id}/suspend`, `${c}/services/${service.id}/reactivate`, `${c}/api-users/${apiUser.id}/suspend`,
        `${c}/api-users/${apiUser.id}/reactivate`, `${c}/services/${service.id}/delete`, `${c}/groups/${group.id}/delete`, `${p}/delete`,
      ],
    };
  });

  function raw(url: string, payload: string, contentType = 'application/x-www-form-urlencoded') {
    return t.app.inject({ method: 'POST', url, headers: { ...root.headers, 'content-type': contentType }, payload });
  }
  function assertNoServerError(status: number, what: string) {
    assert.ok(status < 500, `${what} answered ${status}`);
  }

  it('answers every page with weird query strings without a server error', async () => {
    for (const url of urls.get) {
      for (const query of ['', '?q=%00%25_%5C%27%22&page=-1&pageSize=9999', `?q=a&q=b&page=1&page=2&q=${'x'.repeat(3000)}`]) {
        const res = await get(t, url + query, root);
        assertNoServerError(res.statusCode, `GET ${url}${query.slice(0, 40)}`);
        assert.equal(res.statusCode, 200, `GET ${url}${query.slice(0, 40)}`);
      }
    }
  });

  it('answers hostile form bodies on every form with a 4xx or a success, never a 500', async () => {
    const hostile: Array<[string, (f: string) => string]> = [
      ['control characters', () => 'a\u0000b\u0007\u001b'],
      ['long', () => 'x'.repeat(5000)],
      ['foreign id', () => '00000000-0000-4000-8000-000000000000'],
      ['quotes and unicode', () => `'; drop table co; --" Ωμέγα 🚀 \u202e`],
    ];
    for (const url of urls.post) {
      const none = await raw(url, new URLSearchParams({ _csrf: root.csrf }).toString());
      assertNoServerError(none.statusCode, `POST ${url} empty`);
      for (const [label, value] of hostile) {
        const params = new URLSearchParams({ _csrf: root.csrf });
        for (const f of FIELDS) params.append(f, value(f));
        assertNoServerError((await raw(url, params.toString())).statusCode, `POST ${url} ${label}`);
      }
      const repeated = new URLSearchParams({ _csrf: root.csrf });
      for (const f of FIELDS) {
        repeated.append(f, 'one');
        repeated.append(f, 'two');
      }
      assertNoServerError((await raw(url, repeated.toString())).statusCode, `POST ${url} repeated fields`);
      const json = JSON.stringify({ _csrf: root.csrf, ...Object.fromEntries(FIELDS.map((f) => [f, { nested: [1, null] }])) });
      assertNoServerError((await raw(url, json, 'application/json')).statusCode, `POST ${url} JSON objects`);
      assertNoServerError((await raw(url, '{not json', 'application/json')).statusCode, `POST ${url} bad JSON`);
      assertNoServerError((await raw(url, 'x', 'text/plain')).statusCode, `POST ${url} text`);
    }
    for (const url of urls.destroy) {
      const res = await raw(url, new URLSearchParams({ _csrf: root.csrf, name: '\u0000' }).toString());
      assertNoServerError(res.statusCode, `POST ${url}`);
      // The only name is the primary one, which stays.
      assert.equal(res.statusCode, url.includes('/names/') ? 400 : 303, url);
    }
    assert.ok(!t.logs.some((line) => line.includes('unhandled error')), 'nothing reached the 500 handler');
  });
});
