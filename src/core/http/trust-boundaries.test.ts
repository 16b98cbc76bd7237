// The boundaries a shared, multi-CO Tessera keeps at its edge: sign-in namespaces and sessions bound
// to their people, cross-site API calls, the decoded path deciding API or web, API usernames per CO,
// local sign-in limits per (username, client) and the cap on argon2 work, __Host- cookies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { createApiUser } from '../api-users/api-user.service.ts';
import { createLocalAccount, checkLocalPassword } from '../auth/local-account.service.ts';
import { resolvePersonActor } from '../auth/principal.service.ts';
import { setupPlatformAdmin } from '../auth/setup.service.ts';
import { sessionCookieName } from '../auth/session.service.ts';
import { ensurePlatformCo } from '../cos/co.service.ts';
import { newId } from '../../db/ids.ts';
import { buildCo, buildPerson, createTestApp, everyRow, forEachDialect, form, signIn, useTestApp } from '../../../test/support/test-app.ts';
import { clientBucket } from './client-bucket.ts';
import { ConcurrencyLimit } from './concurrency-limit.ts';
import { csrfCookieName, csrfTokenFor, CSRF_COOKIE, CSRF_FIELD } from './csrf.ts';

const basic = (username: string, key: string) => `Basic ${Buffer.from(`${username}:${key}`).toString('base64')}`;

forEachDialect('Trust boundaries', (dialect) => {
  const t = useTestApp(dialect);

  it('refuses cross-site API calls that change state, bodiless ones included, and changes nothing', async () => {
    const co = await buildCo(t);
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, { username: 'deploy', privileged: true, allowedAddresses: '' });
    const authorization = basic(apiUser.username, key);
    const url = `/api/v1/cos/${co.id}/reprovision`;
    const before = await everyRow(t.db);
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, { origin: 'null' }]) {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization, ...headers } });
      assert.equal(res.statusCode, 403, JSON.stringify(headers));
      assert.equal((res.json() as { error: { code: string } }).error.code, 'CROSS_SITE_REQUEST');
    }
    assert.deepEqual(await everyRow(t.db), before, 'nothing changed');
    // Tessera's own pages, and clients that are no browser, still may.
    for (const headers of [{ 'sec-fetch-site': 'same-origin' }, { origin: 'http://localhost' }, {}]) {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization, ...headers } });
      assert.equal(res.statusCode, 202, `${JSON.stringify(headers)}: ${res.body}`);
    }
  });

  it('treats a percent-encoded /api path as the API: a web session does not reach API handlers', async () => {
    const platform = await ensurePlatformCo(t.ctx);
    const root = await buildPerson(t, platform.id, { admin: true });
    const browser = await signIn(t, root.username);
    assert.equal((await t.app.inject({ method: 'GET', url: '/cos', headers: browser.headers })).statusCode, 200, 'the session works on the web');
    for (const url of ['/%61pi/v1/cos', '/api/v1/cos', '/%61%70%69/v1/cos']) {
      const res = await t.app.inject({ method: 'GET', url, headers: browser.headers });
      assert.equal(res.statusCode, 401, url);
      assert.match(String(res.headers['content-type']), /json/, `${url} answers as the API`);
    }
    // Encoded twice it decodes to no route at all.
    assert.equal((await t.app.inject({ method: 'GET', url: '/%2561pi/v1/cos', headers: browser.headers })).statusCode, 404);
    const post = await t.app.inject({ method: 'POST', url: `/%61pi/v1/cos`, headers: { ...browser.headers, 'content-type': 'application/json' }, payload: JSON.stringify({ name: `Sneaky ${newId()}`, description: 'x' }) });
    assert.equal(post.statusCode, 401);
  });

  it('scopes API usernames per CO: the same name in two COs, each key signs in as its own', async () => {
    const a = await buildCo(t);
    const b = await buildCo(t);
    const ka = await createApiUser(t.ctx, SYSTEM_ACTOR, a.id, { username: 'ci', privileged: false, allowedAddresses: '' });
    const kb = await createApiUser(t.ctx, SYSTEM_ACTOR, b.id, { username: 'ci', privileged: false, allowedAddresses: '' });
    const people = (coId: string, authorization: string) => t.app.inject({ method: 'GET', url: `/api/v1/cos/${coId}/people`, headers: { authorization } });
    assert.equal((await people(a.id, basic('ci', ka.key))).statusCode, 200);
    assert.equal((await people(b.id, basic('ci', kb.key))).statusCode, 200);
    assert.equal((await people(b.id, basic('ci', ka.key))).statusCode, 404, "A's key is A's user: B is none of its business");
    assert.equal((await people(a.id, basic('other-name', ka.key))).statusCode, 401, 'the username must be the key’s');
  });

  it('maps each sign-in method to its identifier type, and binds sessions to the people they signed in as', async () => {
    const co = await buildCo(t);
    const username = `ada-${newId().slice(0, 6)}`;
    const first = await buildPerson(t, co.id, { username, admin: true });
    const browser = await signIn(t, username);
    const peoplePage = () => t.app.inject({ method: 'GET', url: `/cos/${co.id}/people`, headers: browser.headers });
    assert.equal((await peoplePage()).statusCode, 200);
    // The uid moves to someone else: the old session reaches neither of them.
    await t.db.deleteFrom('identifier').where('person_id', '=', first.id).execute();
    const second = await buildPerson(t, co.id, { username, admin: true });
    assert.notEqual((await peoplePage()).statusCode, 200);
    const actor = await resolvePersonActor(t.ctx.db, { type: 'uid', value: username }, t.clock.now());
    assert.equal(actor.personIds[co.id], second.id, 'a new sign-in is the new holder');
    const fresh = await signIn(t, username);
    assert.equal((await t.app.inject({ method: 'GET', url: `/cos/${co.id}/people`, headers: fresh.headers })).statusCode, 200);
  });

  it('compares local usernames as uids: ADA is the account ada', async () => {
    const co = await buildCo(t);
    const username = `grace-${newId().slice(0, 6)}`;
    await buildPerson(t, co.id, { username, admin: true });
    await createLocalAccount(t.ctx.db, t.clock, username, 'a long enough password');
    await assert.rejects(createLocalAccount(t.ctx.db, t.clock, username.toUpperCase(), 'another password!'), (e: { code?: string }) => e.code === 'ACCOUNT_USERNAME_TAKEN');
    assert.equal(await checkLocalPassword(t.ctx.db, username.toUpperCase(), 'a long enough password'), true);
    const csrfCookie = `csrf-${newId()}`;
    const body = form({ username: username.toUpperCase(), password: 'a long enough password', next: `/cos/${co.id}/people`, [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrfCookie) });
    const res = await t.app.inject({ method: 'POST', url: '/sign-in', headers: { ...body.headers, cookie: `${CSRF_COOKIE}=${csrfCookie}` }, payload: body.payload, remoteAddress: '192.0.2.50' });
    assert.equal(res.statusCode, 303);
    const session = res.cookies.find((c) => c.name === sessionCookieName(false))!.value;
    const page = await t.app.inject({ method: 'GET', url: `/cos/${co.id}/people`, headers: { cookie: `${sessionCookieName(false)}=${session}` } });
    assert.equal(page.statusCode, 200, 'signed in as the person with the uid');
  });

  it('lets setup make an administrator of another identifier type, who is no uid', async () => {
    const sub = `Sub-${newId()}`;
    await setupPlatformAdmin(t.ctx, { username: sub, identifierType: 'oidcsub', givenName: 'Ops' });
    assert.equal((await resolvePersonActor(t.ctx.db, { type: 'oidcsub', value: sub }, t.clock.now())).platformAdmin, true);
    assert.equal((await resolvePersonActor(t.ctx.db, { type: 'uid', value: sub }, t.clock.now())).platformAdmin, false);
    await assert.rejects(setupPlatformAdmin(t.ctx, { username: `x${sub}`, identifierType: 'oidcsub', password: 'a long password', givenName: 'Ops' }), (e: { code?: string; field?: string }) => e.code === 'VALIDATION_FAILED');
  });

  it('limits local sign-in per (username, client): failures elsewhere never lock out the right password', async () => {
    const co = await buildCo(t);
    const username = `hedy-${newId().slice(0, 6)}`;
    await buildPerson(t, co.id, { username });
    await createLocalAccount(t.ctx.db, t.clock, username, 'the right password');
    const csrfCookie = `csrf-${newId()}`;
    const attempt = (password: string, remoteAddress: string, name = username) => {
      const body = form({ username: name, password, [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrfCookie) });
      return t.app.inject({ method: 'POST', url: '/sign-in', headers: { ...body.headers, cookie: `${CSRF_COOKIE}=${csrfCookie}` }, payload: body.payload, remoteAddress });
    };
    for (let i = 0; i < 10; i++) assert.equal((await attempt('wrong', '198.51.100.7')).statusCode, 401);
    assert.equal((await attempt('the right password', '198.51.100.7')).statusCode, 429, 'the guessing client waits');
    assert.equal((await attempt('the right password', '203.0.113.9')).statusCode, 303, 'the owner elsewhere signs in');

    // IPv6: one /64 is one client, however many addresses it rotates through.
    for (let i = 1; i <= 10; i++) assert.equal((await attempt('wrong', `2001:db8:1:2::${i.toString(16)}`)).statusCode, 401);
    assert.equal((await attempt('the right password', '2001:db8:1:2:ffff:ffff:ffff:1')).statusCode, 429);
    assert.equal((await attempt('the right password', '2001:db8:1:3::1')).statusCode, 303, 'another /64 is another client');

    // One client spraying usernames is stopped after 30 attempts a minute.
    let last = 0;
    for (let i = 0; i < 31; i++) last = (await attempt('wrong', '192.0.2.99', `spray-${i}`)).statusCode;
    assert.equal(last, 429);
  });
});

describe('Local sign-in behind an untrusted proxy', () => {
  it('says in the log that every client shares the proxy bucket', async () => {
    const t = await createTestApp({ dialect: 'sqlite' });
    try {
      const csrfCookie = `csrf-${newId()}`;
      const body = form({ username: 'nobody', password: 'whatever', [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrfCookie) });
      await t.app.inject({ method: 'POST', url: '/sign-in', headers: { ...body.headers, cookie: `${CSRF_COOKIE}=${csrfCookie}`, 'x-forwarded-for': '203.0.113.1' }, payload: body.payload });
      assert.ok(t.logs.some((l) => l.includes('"event":"sign_in_limits_shared"') && l.includes('TESSERA_TRUSTED_PROXIES')));
    } finally {
      await t.close();
    }
  });
});

describe('Cookies over https', () => {
  const t = useTestApp('sqlite', { config: { publicUrl: 'https://tessera.example.org', secureCookies: true } });

  it('sets the flash cookie __Host- prefixed and Secure', async () => {
    const csrfCookie = `csrf-${newId()}`;
    const body = form({ [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrfCookie) });
    const res = await t.app.inject({ method: 'POST', url: '/sign-out', headers: { ...body.headers, cookie: `${csrfCookieName(true)}=${csrfCookie}` }, payload: body.payload });
    assert.equal(res.statusCode, 303);
    const flash = [res.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('__Host-tessera_flash='));
    assert.ok(flash, 'the flash cookie is __Host-');
    assert.match(flash, /; Secure/);
    assert.match(flash, /; Path=\/(;|$)/);
    const shown = await t.app.inject({ method: 'GET', url: '/', headers: { cookie: flash.split(';')[0]! } });
    assert.match(shown.body, /You are signed out/);
  });
});

describe('Client buckets and the argon2 cap', () => {
  it('counts IPv4 by address and IPv6 by /64', () => {
    assert.equal(clientBucket('192.0.2.1'), '192.0.2.1');
    assert.equal(clientBucket('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(clientBucket('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(clientBucket('2001:0db8:0001:0002:ffff:1:2:3'), '2001:db8:1:2::/64');
    assert.equal(clientBucket('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.notEqual(clientBucket('2001:db8:1:2::1'), clientBucket('2001:db8:1:3::1'));
  });

  it('runs at most N tasks at once and refuses beyond the queue', async () => {
    const limit = new ConcurrencyLimit(2, 1);
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const task = () => new Promise<string>((resolve) => {
      running++;
      most = Math.max(most, running);
      release.push(() => { running--; resolve('done'); });
    });
    const runs = [limit.run(task), limit.run(task), limit.run(task)];
    assert.equal(await limit.run(task), undefined, 'the fourth is refused at once');
    assert.deepEqual(limit.load, { running: 2, waiting: 1 });
    while (release.length > 0 || limit.load.running > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(runs), ['done', 'done', 'done']);
    assert.equal(most, 2);
  });
});
