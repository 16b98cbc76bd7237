import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Co } from '../cos/co.service.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { fieldMessage, fieldValue, followRedirect, get, post } from '../../../test/support/web-pages.ts';
import { RFC3339_MESSAGE } from '../text.ts';

forEachDialect('API user pages', (dialect) => {
  const t = useTestApp(dialect);
  let coA: Co;
  let coB: Co;
  let admin: Browser;
  let member: Browser;
  let adminB: Browser;

  before(async () => {
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    admin = await signIn(t, (await buildPerson(t, coA.id, { admin: true })).username);
    member = await signIn(t, (await buildPerson(t, coA.id)).username);
    adminB = await signIn(t, (await buildPerson(t, coB.id, { admin: true })).username);
  });

  const apiUsers = (coId: string) => `/cos/${coId}/api-users`;
  const rows = (coId: string) => t.ctx.db.selectFrom('api_user').selectAll().where('co_id', '=', coId).orderBy('username').execute();

  it('says what to do when there are none; members get 403 and other COs 404', async () => {
    const res = await get(t, apiUsers(coA.id), admin);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /No API users yet/);
    assert.equal((await get(t, apiUsers(coA.id), member)).statusCode, 403);
    assert.equal((await get(t, `${apiUsers(coA.id)}/new`, member)).statusCode, 403);
    assert.equal((await post(t, apiUsers(coA.id), member, { username: 'sneaky' })).statusCode, 403);
    assert.equal((await get(t, apiUsers(coA.id), adminB)).statusCode, 404);
    assert.equal((await rows(coA.id)).length, 0);
  });

  it('shows a new key once, not cached, and never again; the key works', async () => {
    const res = await post(t, apiUsers(coA.id), admin, { username: 'ci-bot', privileged: 'on', validThrough: '2030-01-01T00:00', allowedAddresses: '127.0.0.1, 10.0.0.0/8' });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['cache-control'], 'no-store');
    const key = /<div class="secret" id="api-key">(tsk_[A-Za-z0-9_-]+)<\/div>/.exec(res.body)?.[1];
    assert.ok(key, 'the key is on the page');
    assert.match(res.body, /will not show it again/);

    const [row] = await rows(coA.id);
    assert.deepEqual([row!.username, row!.privileged, row!.valid_through, row!.allowed_addresses], ['ci-bot', 1, '2030-01-01T00:00:00.000Z', '127.0.0.1, 10.0.0.0/8']);
    assert.ok(!row!.key_hash.includes(key), 'only a hash is stored');

    const me = await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Basic ${Buffer.from(`ci-bot:${key}`).toString('base64')}` } });
    assert.equal(me.statusCode, 200, me.body);

    for (const url of [apiUsers(coA.id), `${apiUsers(coA.id)}/new`, `/cos/${coA.id}`, `/cos/${coA.id}/history`]) {
      const page = await get(t, url, admin);
      assert.equal(page.statusCode, 200, url);
      assert.ok(!page.body.includes(key), `key on ${url}`);
    }
    assert.ok(!t.logs.some((line) => line.includes(key)), 'the key is never logged');
  });

  it('re-renders invalid input and refuses a duplicate username (409)', async () => {
    const before = (await rows(coA.id)).length;
    const dup = await post(t, apiUsers(coA.id), admin, { username: 'ci-bot', allowedAddresses: '' });
    assert.equal(dup.statusCode, 409);
    assert.equal(fieldMessage(dup.body, 'f-username'), 'An API user with this username exists already');
    assert.ok(!/tsk_/.test(dup.body));

    const invalid = await post(t, apiUsers(coA.id), admin, { username: 'x', validFrom: 'soon', allowedAddresses: 'localhost' });
    assert.equal(invalid.statusCode, 400);
    assert.match(fieldMessage(invalid.body, 'f-username') ?? '', /3 to 64/);
    assert.equal(fieldMessage(invalid.body, 'f-validFrom'), RFC3339_MESSAGE);
    assert.match(fieldMessage(invalid.body, 'f-allowedAddresses') ?? '', /IP addresses/);
    assert.equal(fieldValue(invalid.body, 'f-validFrom'), 'soon');

    const unmatchable = await post(t, apiUsers(coA.id), admin, { username: 'typo-bot', allowedAddresses: '10.0.0.1, 999.1.1.1' });
    assert.equal(unmatchable.statusCode, 400);
    assert.equal(fieldMessage(unmatchable.body, 'f-allowedAddresses'), '"999.1.1.1" is not an IP address or CIDR range');
    assert.equal(fieldValue(unmatchable.body, 'f-username'), 'typo-bot');
    assert.equal((await rows(coA.id)).length, before);
  });

  it('suspends and reactivates, only within the CO', async () => {
    const [bot] = await rows(coA.id);
    const list = await get(t, apiUsers(coA.id), admin);
    assert.match(list.body, /data-confirm="Suspend ci-bot\?/);
    const suspended = await followRedirect(t, await post(t, `${apiUsers(coA.id)}/${bot!.id}/suspend`, admin), admin);
    assert.match(suspended.body, /API user suspended\./);
    assert.equal((await rows(coA.id))[0]!.status, 'suspended');
    await followRedirect(t, await post(t, `${apiUsers(coA.id)}/${bot!.id}/reactivate`, admin), admin);
    assert.equal((await rows(coA.id))[0]!.status, 'active');

    assert.equal((await post(t, `${apiUsers(coB.id)}/${bot!.id}/suspend`, adminB)).statusCode, 404, 'another CO’s id under its own CO');
    assert.equal((await post(t, `${apiUsers(coA.id)}/${bot!.id}/suspend`, adminB)).statusCode, 404);
    assert.equal((await post(t, `${apiUsers(coA.id)}/${bot!.id}/suspend`, member)).statusCode, 403);
    assert.equal((await post(t, `${apiUsers(coA.id)}/not-an-id/suspend`, admin)).statusCode, 404);
    assert.equal((await rows(coA.id))[0]!.status, 'active');
  });
});
