// A SCIM source's bearer tokens: shown once, stored hashed, rotated and revoked through the web UI
// and the REST API; a revoked or rotated-out token is refused at once. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { scimSource } from '../../../../test/support/scim.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, form, signIn, useTestApp } from '../../../../test/support/test-app.ts';

forEachDialect('SCIM tokens', (dialect) => {
  const t = useTestApp(dialect, { config: { publicUrl: 'https://tessera.example' } });
  const users = (sourceId: string, secret: string) => t.app.inject({ method: 'GET', url: `/scim/v2/${sourceId}/Users`, headers: { authorization: `Bearer ${secret}` } });

  it('web UI: the page shows the base URL; new and rotated tokens are shown once; revoked ones are refused', async () => {
    const co = await buildCo(t);
    const scim = await scimSource(t, co.id, { name: 'Web' });
    assert.match(scim.baseUrl, new RegExp(`^https://tessera\\.example/scim/v2/${scim.sourceId}$`));
    const stored = await t.db.selectFrom('scim_token').select(['token_hash', 'hint']).where('source_id', '=', scim.sourceId).execute();
    assert.equal(stored.length, 1);
    assert.match(stored[0]!.token_hash, /^sha256:[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(stored).includes(scim.token), 'the secret is not stored');

    const admin = await buildPerson(t, co.id, { admin: true });
    const browser = await signIn(t, admin.username);
    const url = `/cos/${co.id}/sources/${scim.sourceId}/scim-tokens`;
    const page = await t.app.inject({ method: 'GET', url, headers: browser.headers });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(scim.baseUrl));
    assert.ok(!page.body.includes(scim.token), 'the list never shows a secret');

    const made = await t.app.inject({ method: 'POST', url, headers: { ...browser.headers, ...form({ _csrf: browser.csrf }).headers }, payload: form({ _csrf: browser.csrf }).payload });
    assert.equal(made.statusCode, 201);
    assert.equal(made.headers['cache-control'], 'no-store');
    const second = /<div class="secret" id="scim-token">([^<]+)<\/div>/.exec(made.body)![1]!;
    assert.equal((await users(scim.sourceId, second)).statusCode, 200);
    assert.equal((await users(scim.sourceId, scim.token)).statusCode, 200, 'the first token still works');

    const rotated = await t.app.inject({ method: 'POST', url: `${url}/rotate`, headers: { ...browser.headers, ...form({ _csrf: browser.csrf }).headers }, payload: form({ _csrf: browser.csrf }).payload });
    assert.equal(rotated.statusCode, 201);
    const third = /<div class="secret" id="scim-token">([^<]+)<\/div>/.exec(rotated.body)![1]!;
    assert.deepEqual([(await users(scim.sourceId, scim.token)).statusCode, (await users(scim.sourceId, second)).statusCode, (await users(scim.sourceId, third)).statusCode], [401, 401, 200]);

    const [live] = await t.db.selectFrom('scim_token').select('id').where('source_id', '=', scim.sourceId).where('revoked_at', 'is', null).execute();
    const revoke = await t.app.inject({ method: 'POST', url: `${url}/${live!.id}/revoke`, headers: { ...browser.headers, ...form({ _csrf: browser.csrf }).headers }, payload: form({ _csrf: browser.csrf }).payload });
    assert.equal(revoke.statusCode, 303);
    assert.equal((await users(scim.sourceId, third)).statusCode, 401);
  });

  it('web UI: a CO admin adds a SCIM source and sees its base URL and first token once; a taken name re-renders the form', async () => {
    const co = await buildCo(t);
    const admin = await buildPerson(t, co.id, { admin: true });
    const browser = await signIn(t, admin.username);
    const post = (values: Record<string, string>) => {
      const body = form({ _csrf: browser.csrf, ...values });
      return t.app.inject({ method: 'POST', url: `/cos/${co.id}/sources/new-scim`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    };
    assert.equal((await t.app.inject({ method: 'GET', url: `/cos/${co.id}/sources/new-scim`, headers: browser.headers })).statusCode, 200);
    const added = await post({ name: 'SRAM', relativeLocation: 'on' });
    assert.equal(added.statusCode, 201, added.body.slice(0, 500));
    assert.equal(added.headers['cache-control'], 'no-store');
    const secret = /<div class="secret" id="scim-token">([^<]+)<\/div>/.exec(added.body)![1]!;
    const source = await t.db.selectFrom('source').select('id').where('co_id', '=', co.id).where('name', '=', 'SRAM').executeTakeFirstOrThrow();
    const listed = await users(source.id, secret);
    assert.equal(listed.statusCode, 200);
    const created = await t.app.inject({ method: 'POST', url: `/scim/v2/${source.id}/Users`, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/scim+json' }, payload: { userName: 'rel' } });
    assert.equal((created.json() as { meta: { location: string } }).meta.location, `/Users/${(created.json() as { id: string }).id}`, 'relative locations as chosen');
    const again = await post({ name: 'SRAM' });
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /form-errors|error/);
  });

  it('REST API: a privileged API user lists, makes, rotates and revokes; an unprivileged one is refused', async () => {
    const co = await buildCo(t);
    const scim = await scimSource(t, co.id, { name: 'Api' });
    const writer = await buildApiUser(t, co.id, true);
    const reader = await buildApiUser(t, co.id, false);
    const url = `/api/v1/cos/${co.id}/sources/${scim.sourceId}/scim-tokens`;
    assert.equal((await t.app.inject({ method: 'GET', url, headers: { authorization: reader.authorization } })).statusCode, 403);
    const made = await t.app.inject({ method: 'POST', url, headers: { authorization: writer.authorization }, payload: { label: 'entra' } });
    assert.equal(made.statusCode, 201, made.body);
    assert.equal(made.headers['cache-control'], 'no-store');
    const { secret, baseUrl, token } = made.json() as { secret: string; baseUrl: string; token: { id: string; hint: string } };
    assert.match(secret, /^tss_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.hint, secret.slice(-4));
    assert.equal(baseUrl, scim.baseUrl);
    const list = (await t.app.inject({ method: 'GET', url, headers: { authorization: writer.authorization } })).json() as { items: Array<{ id: string }> };
    assert.equal(list.items.length, 2);
    assert.ok(!JSON.stringify(list).includes(secret));
    assert.equal((await t.app.inject({ method: 'DELETE', url: `${url}/${token.id}`, headers: { authorization: writer.authorization } })).statusCode, 204);
    assert.equal((await users(scim.sourceId, secret)).statusCode, 401);
    const rotated = await t.app.inject({ method: 'POST', url: `${url}/rotate`, headers: { authorization: writer.authorization }, payload: {} });
    assert.equal(rotated.statusCode, 201);
    assert.equal((await users(scim.sourceId, scim.token)).statusCode, 401);
    assert.equal((await users(scim.sourceId, (rotated.json() as { secret: string }).secret)).statusCode, 200);
    const other = await buildCo(t);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/v1/cos/${other.id}/sources/${scim.sourceId}/scim-tokens`, headers: { authorization: (await buildApiUser(t, other.id, true)).authorization } })).statusCode, 404, "another CO's admins do not reach it");
  });
});
