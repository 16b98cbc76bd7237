import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Config } from '../../config/config.ts';
import { buildApiUser, buildCo, buildPerson, createTestApp, useTestApp, form, forEachDialect, signIn, type TestApp } from '../../../test/support/test-app.ts';
import type { TesseraPlugin } from '../plugins/plugin.ts';
import { ensurePlatformCo } from '../cos/co.service.ts';
import { createLocalAccount } from '../auth/local-account.service.ts';
import { SESSION_COOKIE, startSession } from '../auth/session.service.ts';
import { CSRF_COOKIE, CSRF_FIELD, csrfTokenFor } from './csrf.ts';

const PASSWORD = 'a long and proper password';

/** A page that fails with an error whose text must stay in the log. */
const failingPlugin: TesseraPlugin = {
  id: 'failing-page',
  description: 'A page that fails (tests only)',
  setup: () => ({
    routes: (app) => {
      app.get('/failing-page', async () => {
        throw new Error('internal detail: connection to db.internal:5432 refused');
      });
    },
  }),
};

forEachDialect('HTTP security', (dialect) => {
  const t = useTestApp(dialect, { plugins: [failingPlugin] });

  /** A browser's sign-in form post, with a CSRF cookie of its own and any other cookies it holds. */
  function postSignIn(app: TestApp, values: Record<string, string>, opts: { csrfCookie?: string; cookies?: string } = {}) {
    const csrfCookie = opts.csrfCookie ?? 'csrf-cookie-of-this-browser';
    const body = form({ ...values, [CSRF_FIELD]: csrfTokenFor(app.ctx.config.secretKey, csrfCookie) });
    const cookie = [`${CSRF_COOKIE}=${csrfCookie}`, opts.cookies].filter(Boolean).join('; ');
    return app.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie, ...body.headers }, payload: body.payload });
  }

  async function sessionRows(username: string): Promise<number> {
    return (await t.ctx.db.selectFrom('web_session').select('id').where('username', '=', username).execute()).length;
  }

  it('sends the security headers on pages, API answers and error pages', async () => {
    for (const url of ['/', '/sign-in', '/no-such-page', '/api/v1/cos', '/api/openapi.json']) {
      const res = await t.app.inject({ url });
      const csp = String(res.headers['content-security-policy']);
      for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"]) {
        assert.ok(csp.includes(directive), `${url}: CSP has ${directive}`);
      }
      assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), `${url}: no unsafe CSP source`);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['referrer-policy'], 'same-origin', url);
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/, url);
      assert.equal(res.headers['strict-transport-security'], undefined, `${url}: no HSTS over http`);
    }
  });

  it('answers a failure with a page naming the request id, never the error, even when that page cannot be made', async () => {
    const assertPlain = (res: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string) => {
      assert.equal(res.statusCode, 500, what);
      assert.match(String(res.headers['content-type']), /^text\/html/, what);
      assert.ok(res.body.includes(String(res.headers['x-request-id'])), `${what}: the request id is shown`);
      assert.ok(!/internal detail|notification|    at /.test(res.body), `${what}: ${res.body.slice(0, 300)}`);
    };
    assertPlain(await t.app.inject({ url: '/failing-page' }), 'a failing page');

    // The error page needs the database too (the signed-in person's menu); when that fails as well,
    // a plain page still answers, not the framework's default with the error's message.
    const broken = await createTestApp({ dialect, plugins: [failingPlugin] });
    try {
      const co = await buildCo(broken);
      const browser = await signIn(broken, (await buildPerson(broken, co.id)).username);
      await sql`drop table outbound_email`.execute(broken.ctx.db);
      await sql`drop table notification`.execute(broken.ctx.db);
      assertPlain(await broken.app.inject({ url: '/failing-page', headers: browser.headers }), 'a failing page whose error page fails');
      assertPlain(await broken.app.inject({ url: `/cos/${co.id}`, headers: browser.headers }), 'a page failing in the database');
      assert.ok(broken.logs.some((l) => l.includes('no such table') || l.includes('does not exist')), 'the error is logged');
    } finally {
      await broken.close();
    }
  });

  it('refuses sign-in and sign-out posted without the CSRF token (login CSRF)', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    await createLocalAccount(t.ctx.db, t.clock, person.username, PASSWORD);
    for (const token of [undefined, 'forged']) {
      const body = form({ username: person.username, password: PASSWORD, [CSRF_FIELD]: token });
      const res = await t.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie: `${CSRF_COOKIE}=c`, ...body.headers }, payload: body.payload });
      assert.equal(res.statusCode, 403);
      assert.equal(res.cookies.find((c) => c.name === SESSION_COOKIE), undefined);
    }
    assert.equal(await sessionRows(person.username), 0);

    const session = await startSession(t.ctx.db, t.clock, { type: 'uid', value: person.username }, 'local', 12);
    const out = form({});
    const res = await t.app.inject({ method: 'POST', url: '/sign-out', headers: { cookie: `${SESSION_COOKIE}=${session}; ${CSRF_COOKIE}=c`, ...out.headers }, payload: out.payload });
    assert.equal(res.statusCode, 403, 'a cross-site page cannot sign anybody out');
    assert.equal(await sessionRows(person.username), 1);
    assert.equal((await t.app.inject({ method: 'GET', url: '/sign-out' })).statusCode, 404, 'signing out is a POST');
  });

  it('replaces the session a browser had when it signs in (no session fixation)', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    await createLocalAccount(t.ctx.db, t.clock, person.username, PASSWORD);
    // A session someone else started and planted in this browser, or the previous user's.
    const planted = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'someone-else' }, 'local', 12);
    const res = await postSignIn(t, { username: person.username, password: PASSWORD }, { cookies: `${SESSION_COOKIE}=${planted}` });
    assert.equal(res.statusCode, 303);
    const fresh = res.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
    assert.notEqual(fresh, planted, 'a new session id');
    assert.equal(await sessionRows('someone-else'), 0, 'the session the browser held is ended');
    assert.equal(await sessionRows(person.username), 1);
  });

  it('after sign-in goes only to a same-site path, and never fails on an odd one', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    await createLocalAccount(t.ctx.db, t.clock, person.username, PASSWORD);
    const cases: Array<[string, string]> = [
      ['/cos', '/cos'],
      ['//evil.example', '/'],
      ['/\\evil.example', '/'],
      ['https://evil.example/', '/'],
      ['/\tevil', '/'],
      ['/line\u2028separator', '/'],
      ['/café', '/'],
    ];
    for (const [next, location] of cases) {
      const res = await postSignIn(t, { username: person.username, password: PASSWORD, next });
      assert.equal(res.statusCode, 303, `${JSON.stringify(next)}: ${res.body.slice(0, 200)}`);
      assert.equal(res.headers.location, location, JSON.stringify(next));
    }
  });

  it('takes API bodies as JSON only: a cross-site form cannot use credentials the browser keeps', async () => {
    // A browser that was given API credentials (the API asks with WWW-Authenticate: Basic) sends
    // them again with a form another site posts; such a form can only be urlencoded or plain text.
    const platform = await ensurePlatformCo(t.ctx);
    const { authorization } = await buildApiUser(t, platform.id, true);
    const cos = async () => (await t.ctx.db.selectFrom('co').select('name').execute()).map((c) => c.name);
    for (const [contentType, payload] of [
      ['application/x-www-form-urlencoded', 'name=Forged&description=cross-site'],
      ['text/plain', 'name=Forged'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nForged\r\n--x--\r\n'],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/cos', headers: { authorization, 'content-type': contentType }, payload });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${contentType}: ${res.statusCode}`);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'VALIDATION_FAILED', contentType);
    }
    assert.ok(!(await cos()).includes('Forged'), 'no CO was made');
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/cos', headers: { authorization, 'content-type': 'application/json' }, payload: { name: 'Made with JSON', description: '' } });
    assert.equal(json.statusCode, 201);
  });
});

describe('HTTP security: behind a reverse proxy, over https', () => {
  const config: Partial<Config> = {
    publicUrl: 'https://tessera.example.org',
    secureCookies: true,
    trustedHeader: 'X-Remote-User',
    trustedProxies: ['192.0.2.7', '10.1.0.0/16', '2001:db8::/32'],
  };
  const t = useTestApp('sqlite', { config });

  /** Whom the home page greets: a signed-in person is sent on to their COs. */
  async function signedIn(remoteAddress: string, headers: Record<string, string>): Promise<boolean> {
    const res = await t.app.inject({ url: '/', remoteAddress, headers });
    assert.ok([200, 303].includes(res.statusCode), String(res.statusCode));
    return res.statusCode === 303;
  }

  it('accepts the trusted header only from the configured proxies, addresses and ranges alike', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const header = { 'x-remote-user': person.username };
    for (const address of ['192.0.2.7', '::ffff:192.0.2.7', '10.1.200.3', '2001:db8::5']) assert.ok(await signedIn(address, header), `from ${address}`);
    for (const address of ['192.0.2.8', '10.2.0.1', '127.0.0.1', '2001:db9::5']) assert.ok(!(await signedIn(address, header)), `not from ${address}`);
    // A forwarded address is who the client is, not who sent the request.
    assert.ok(!(await signedIn('198.51.100.1', { ...header, 'x-forwarded-for': '192.0.2.7' })));
  });

  it('sends HSTS and keeps its cookies to this host over https (__Host- prefix, Secure)', async () => {
    const page = await t.app.inject({ url: '/sign-in' });
    assert.equal(page.headers['strict-transport-security'], 'max-age=31536000');
    const csrf = page.cookies.find((c) => c.name === `__Host-${CSRF_COOKIE}`);
    assert.ok(csrf, `the CSRF cookie is __Host-: ${JSON.stringify(page.cookies.map((c) => c.name))}`);
    assert.deepEqual([csrf.secure, csrf.httpOnly, csrf.path, csrf.domain], [true, true, '/', undefined]);

    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    await createLocalAccount(t.ctx.db, t.clock, person.username, PASSWORD);
    const body = form({ username: person.username, password: PASSWORD, [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrf.value) });
    const res = await t.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie: `__Host-${CSRF_COOKIE}=${csrf.value}`, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 303, res.body.slice(0, 300));
    const session = res.cookies.find((c) => c.name === `__Host-${SESSION_COOKIE}`);
    assert.ok(session, 'the session cookie is __Host-');
    assert.deepEqual([session.secure, session.httpOnly, session.sameSite, session.path, session.domain], [true, true, 'Lax', '/', undefined]);
    assert.ok((await t.app.inject({ url: '/', headers: { cookie: `__Host-${SESSION_COOKIE}=${session.value}` } })).statusCode === 303, 'the session works');
    // The unprefixed names are what a sibling host or a plain-http page could set: not read.
    assert.equal((await t.app.inject({ url: '/', headers: { cookie: `${SESSION_COOKIE}=${session.value}` } })).statusCode, 200);
    const forged = form({ [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, 'tossed') });
    const tossed = await t.app.inject({ method: 'POST', url: '/sign-out', headers: { cookie: `__Host-${SESSION_COOKIE}=${session.value}; ${CSRF_COOKIE}=tossed`, ...forged.headers }, payload: forged.payload });
    assert.equal(tossed.statusCode, 403, 'a CSRF cookie set by another host is not the one checked');
  });
});
