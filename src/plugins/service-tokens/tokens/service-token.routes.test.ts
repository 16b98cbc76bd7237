import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildApiUser, buildCo, buildPerson, useTestApp, forEachDialect, form, signIn } from '../../../../test/support/test-app.ts';
import { verifySecret } from '../hashing/password-schemes.ts';
import { buildService, enableTokens } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';

function secretOf(html: string): string {
  const m = /<p class="secret" id="token-secret">([^<]+)<\/p>/.exec(html);
  assert.ok(m, 'the page shows the token');
  return m[1]!;
}

function nonceOf(html: string): string {
  return /name="nonce" value="([^"]+)"/.exec(html)![1]!;
}

forEachDialect('service tokens over HTTP', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin()] });

  async function scenario() {
    const co = await buildCo(t, `Lab ${Math.random().toString(36).slice(2, 8)}`);
    const service = await buildService(t, co.id, { name: 'Wiki <b>"quoted"</b>', description: '<script>alert(1)</script>' });
    await enableTokens(t, co.id, service.id);
    const person = await buildPerson(t, co.id, { given: 'Kim' });
    const browser = await signIn(t, person.username);
    return { co, service, person, browser };
  }

  it('shows Service Tokens → CO in the identity menu once per CO the person is in', async () => {
    const { co, person, browser } = await scenario();
    const second = await buildCo(t, `Second ${Math.random().toString(36).slice(2, 8)}`);
    await buildPerson(t, second.id, { username: person.username });
    // A session stays with the people it signed in as: the new CO shows from the next sign-in.
    const before = await t.app.inject({ method: 'GET', url: '/cos', headers: browser.headers });
    assert.equal(before.body.split(`Service Tokens → ${second.name}`).length - 1, 0);
    const res = await t.app.inject({ method: 'GET', url: '/cos', headers: (await signIn(t, person.username)).headers });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.split(`Service Tokens → ${co.name}`).length - 1, 1);
    assert.equal(res.body.split(`Service Tokens → ${second.name}`).length - 1, 1);
    assert.ok(res.body.includes(`/cos/${co.id}/people/${person.id}/service-tokens`));
  });

  it('generates a token shown once with a QR code and no-store, never shown again, never logged', async () => {
    const { co, service, person, browser } = await scenario();
    const url = `/cos/${co.id}/people/${person.id}/service-tokens`;
    const page = await t.app.inject({ method: 'GET', url, headers: browser.headers });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('Wiki &lt;b>&quot;quoted&quot;&lt;/b>'), 'service name escaped');
    assert.ok(!page.body.includes('<b>"quoted"'), 'no markup from the service name');
    assert.ok(!page.body.includes('<script>alert(1)'), 'description escaped');
    const nonce = nonceOf(page.body);
    const body = form({ _csrf: browser.csrf, serviceId: service.id, label: 'phone', lifetimeDays: '', nonce });
    const res = await t.app.inject({ method: 'POST', url: `${url}/generate`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const secret = secretOf(res.body);
    assert.ok(res.body.includes('src="data:image/png;base64,'), 'QR code');
    const row = await t.db.selectFrom('service_token').selectAll().where('person_id', '=', person.id).executeTakeFirstOrThrow();
    assert.equal(await verifySecret(secret, row.hash), true);

    const again = await t.app.inject({ method: 'GET', url, headers: browser.headers });
    assert.ok(!again.body.includes(secret), 'the list never shows the secret');
    assert.ok(again.body.includes('phone'));
    const resubmit = await t.app.inject({ method: 'POST', url: `${url}/generate`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(resubmit.statusCode, 409);
    assert.ok(!resubmit.body.includes(secret));
    assert.ok(resubmit.body.includes('cannot be shown again'));
    assert.ok(!t.logs.join('\n').includes(secret), 'the secret is never logged');
  });

  it('re-renders the form with the message when the label is missing, and writes nothing', async () => {
    const { co, service, person, browser } = await scenario();
    const url = `/cos/${co.id}/people/${person.id}/service-tokens/generate`;
    const body = form({ _csrf: browser.csrf, serviceId: service.id, label: '  ', lifetimeDays: '', nonce: 'n-123456789' });
    const res = await t.app.inject({ method: 'POST', url, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 400);
    assert.ok(res.body.includes('Give the token a name'));
    const rows = await t.db.selectFrom('service_token').selectAll().where('person_id', '=', person.id).execute();
    assert.equal(rows.length, 0);
  });

  it('refuses a POST without the CSRF token', async () => {
    const { co, service, person, browser } = await scenario();
    const body = form({ serviceId: service.id, label: 'x', nonce: 'n-abcdefghij' });
    const res = await t.app.inject({ method: 'POST', url: `/cos/${co.id}/people/${person.id}/service-tokens/generate`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 403);
    const rows = await t.db.selectFrom('service_token').selectAll().where('person_id', '=', person.id).execute();
    assert.equal(rows.length, 0);
  });

  it('keeps a person out of another person’s and another CO’s tokens', async () => {
    const a = await scenario();
    const b = await scenario();
    const neighbour = await buildPerson(t, a.co.id);
    for (const url of [
      `/cos/${a.co.id}/people/${neighbour.id}/service-tokens`,
      `/cos/${b.co.id}/people/${b.person.id}/service-tokens`,
      `/cos/${a.co.id}/people/${b.person.id}/service-tokens`,
    ]) {
      const res = await t.app.inject({ method: 'GET', url, headers: a.browser.headers });
      assert.ok(res.statusCode === 403 || res.statusCode === 404, `${url} → ${res.statusCode}`);
    }
    const body = form({ _csrf: a.browser.csrf, serviceId: b.service.id, label: 'x', nonce: 'n-zzzzzzzzzz' });
    const cross = await t.app.inject({ method: 'POST', url: `/cos/${a.co.id}/people/${a.person.id}/service-tokens/generate`, headers: { ...a.browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(cross.statusCode, 404);
    const rows = await t.db.selectFrom('service_token').selectAll().execute();
    assert.ok(!rows.some((r) => r.service_id === b.service.id));
  });

  it('lets an admin generate on behalf of a person from the CO Person page and revoke', async () => {
    const { co, service, person } = await scenario();
    const admin = await buildPerson(t, co.id, { admin: true });
    const browser = await signIn(t, admin.username);
    const url = `/cos/${co.id}/people/${person.id}/service-tokens`;
    const page = await t.app.inject({ method: 'GET', url, headers: browser.headers });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('Service tokens of Kim'));
    const body = form({ _csrf: browser.csrf, serviceId: service.id, label: 'set up by IT', lifetimeDays: '', nonce: nonceOf(page.body) });
    const res = await t.app.inject({ method: 'POST', url: `${url}/generate`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 200);
    secretOf(res.body);
    const row = await t.db.selectFrom('service_token').selectAll().where('person_id', '=', person.id).executeTakeFirstOrThrow();
    assert.equal(row.created_by_label, admin.username);
    const revoke = form({ _csrf: browser.csrf });
    const r = await t.app.inject({ method: 'POST', url: `${url}/${row.id}/revoke`, headers: { ...browser.headers, ...revoke.headers }, payload: revoke.payload });
    assert.equal(r.statusCode, 303);
    const after = await t.db.selectFrom('service_token').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.ok(after.revoked_at);
  });

  it('serves settings to CO admins only and re-renders a refused combination with its message', async () => {
    const { co, service, browser } = await scenario();
    const url = `/cos/${co.id}/service-token-settings/${service.id}`;
    assert.equal((await t.app.inject({ method: 'GET', url, headers: browser.headers })).statusCode, 403);
    const admin = await buildPerson(t, co.id, { admin: true });
    const adminBrowser = await signIn(t, admin.username);
    assert.equal((await t.app.inject({ method: 'GET', url, headers: adminBrowser.headers })).statusCode, 200);
    const body = form({ _csrf: adminBrowser.csrf, enabled: 'on', tokenType: 'legacy-plain-8', storageScheme: 'PLAINTEXT', maxLifetimeDays: '', maxTokensPerPerson: '2', generation: 'self_and_admins' });
    const res = await t.app.inject({ method: 'POST', url, headers: { ...adminBrowser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 400);
    assert.ok(res.body.includes('needs the warning to be accepted'));
    assert.ok(res.body.includes('value="2"'), 'typed values kept');
  });

  it('answers the REST API: generate returns the secret once, list never does, delete revokes', async () => {
    const { co, service, person } = await scenario();
    const api = await buildApiUser(t, co.id, true);
    const base = `/api/v1/cos/${co.id}/people/${person.id}/service-tokens`;
    const created = await t.app.inject({ method: 'POST', url: base, headers: { authorization: api.authorization }, payload: { serviceId: service.id, label: 'ci' } });
    assert.equal(created.statusCode, 201);
    assert.equal(created.headers['cache-control'], 'no-store');
    const { token, secret } = created.json() as { token: { id: string; state: string }; secret: string };
    assert.equal(token.state, 'active');
    const list = await t.app.inject({ method: 'GET', url: base, headers: { authorization: api.authorization } });
    assert.equal(list.statusCode, 200);
    assert.ok(!list.body.includes(secret));
    assert.ok(!list.body.includes('{SSHA512}'), 'no hash either');
    assert.equal((list.json() as { tokens: unknown[] }).tokens.length, 1);
    const del = await t.app.inject({ method: 'DELETE', url: `${base}/${token.id}`, headers: { authorization: api.authorization } });
    assert.equal(del.statusCode, 204);
    const again = await t.app.inject({ method: 'DELETE', url: `${base}/${token.id}`, headers: { authorization: api.authorization } });
    assert.equal(again.statusCode, 409);
    assert.equal((again.json() as { error: { code: string } }).error.code, 'TOKEN_ALREADY_REVOKED');
    const weak = await buildApiUser(t, co.id, false);
    const refused = await t.app.inject({ method: 'POST', url: base, headers: { authorization: weak.authorization }, payload: { serviceId: service.id, label: 'x' } });
    assert.equal(refused.statusCode, 403);
    const bad = await t.app.inject({ method: 'POST', url: base, headers: { authorization: api.authorization }, payload: { serviceId: service.id } });
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { error: { field: string } }).error.field, 'label');
    const settings = await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/services/${service.id}/token-settings`, headers: { authorization: api.authorization } });
    assert.equal(settings.statusCode, 200);
    assert.equal((settings.json() as { enabled: boolean }).enabled, true);
    const other = await scenario();
    const cross = await t.app.inject({ method: 'GET', url: `/api/v1/cos/${other.co.id}/services/${other.service.id}/token-settings`, headers: { authorization: api.authorization } });
    assert.equal(cross.statusCode, 404);
  });
});

describe('service tokens plugin switched off', () => {
  const t = useTestApp('sqlite', { plugins: [] });

  it('adds no menu entry, answers no route and creates no table', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const browser = await signIn(t, person.username);
    const page = await t.app.inject({ method: 'GET', url: '/cos', headers: browser.headers });
    assert.ok(!page.body.includes('Service Tokens'));
    const res = await t.app.inject({ method: 'GET', url: `/cos/${co.id}/people/${person.id}/service-tokens`, headers: browser.headers });
    assert.equal(res.statusCode, 404);
    const tables = await t.ctx.db.introspection.getTables();
    assert.ok(!tables.some((x) => x.name.startsWith('service_token')));
  });
});
