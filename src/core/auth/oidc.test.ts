import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { randomPKCECodeVerifier } from 'openid-client';
import { CSRF_COOKIE, CSRF_FIELD, csrfTokenFor } from '../http/csrf.ts';
import { oidcConfig, op, providerAccount, PUBLIC_URL, REDIRECT_URI, useOidcProvider } from '../../../test/support/oidc-fixture.ts';
import { buildCo, buildPerson, createTestApp, useTestApp, forEachDialect, form, type TestApp } from '../../../test/support/test-app.ts';
import { createLocalAccount } from './local-account.service.ts';
import { OIDC_TRANSACTION_COOKIE } from './oidc.routes.tsx';
import { encodeTransaction, type OidcTransaction } from './oidc.service.ts';
import { SESSION_COOKIE } from './session.service.ts';


useOidcProvider();
/** The cookies a browser keeps for Tessera, from light-my-request's parsed Set-Cookie headers. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(initial)) this.cookies.set(k, v);
  }
  store(response: LightMyRequestResponse): void {
    for (const c of response.cookies as Array<{ name: string; value: string; expires?: Date; maxAge?: number }>) {
      if (c.value === '' || (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }
  get headers(): { cookie: string } {
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }
}

async function get(t: TestApp, url: string, browser: Browser): Promise<LightMyRequestResponse> {
  const response = await t.app.inject({ method: 'GET', url, headers: browser.headers });
  browser.store(response);
  return response;
}

/** Starts a sign-in at Tessera and plays the browser at the provider; returns where the provider sent it back. */
async function startAndAuthorize(t: TestApp, browser: Browser, how: { as: string } | { deny: true }, next = '/cos'): Promise<{ start: LightMyRequestResponse; callback: URL }> {
  const start = await get(t, `/auth/oidc/start?next=${encodeURIComponent(next)}`, browser);
  assert.equal(start.statusCode, 302, start.body.slice(0, 500));
  const callback = await op().authorize(String(start.headers.location), how);
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  return { start, callback };
}

async function signInThroughProvider(t: TestApp, as: string, next = '/cos', browser = new Browser()) {
  const { start, callback } = await startAndAuthorize(t, browser, { as }, next);
  const done = await get(t, callback.pathname + callback.search, browser);
  return { start, callback, done, browser };
}

function sessionCookie(response: LightMyRequestResponse): string | undefined {
  return response.cookies.find((c) => c.name === SESSION_COOKIE && c.value !== '')?.value;
}

function errorMessage(html: string): string {
  return /<p class="error-message"[^>]*>([^<]*)</.exec(html)?.[1]?.replace(/&quot;/g, '"').replace(/&#39;/g, "'") ?? '';
}

forEachDialect('OpenID Connect sign-in', (dialect) => {
  const t = useTestApp(dialect, () => ({ config: { publicUrl: PUBLIC_URL, oidc: oidcConfig() } }));

  it('offers the provider on the home and sign-in pages, beside the local account form', async () => {
    const home = await get(t, '/', new Browser());
    assert.match(home.body, /<a class="button" href="\/auth\/oidc\/start\?next=%2F">Sign in with Example University<\/a>/);
    const signIn = await get(t, '/sign-in?next=/cos/x', new Browser());
    assert.equal(signIn.statusCode, 200);
    assert.match(signIn.body, /href="\/auth\/oidc\/start\?next=%2Fcos%2Fx">Sign in with Example University</);
    assert.match(signIn.body, /<form method="post" action="\/sign-in"/);
  });

  it('signs a person in through the provider: code flow with PKCE, state and nonce, and a session', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { given: 'Olivia', family: 'Connect', username: `olivia-${dialect}@example.org`, loginType: 'eppn' });
    const sub = providerAccount({ preferred_username: person.username, name: 'Olivia Connect' });

    const { start, callback, done, browser } = await signInThroughProvider(t, sub, '/cos');

    // The request to the provider.
    const authorize = new URL(String(start.headers.location));
    assert.equal(authorize.origin, op().issuer);
    assert.equal(authorize.searchParams.get('response_type'), 'code');
    assert.equal(authorize.searchParams.get('client_id'), 'tessera');
    assert.equal(authorize.searchParams.get('redirect_uri'), REDIRECT_URI);
    assert.equal(authorize.searchParams.get('scope'), 'openid profile email');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(authorize.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(authorize.searchParams.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/);
    const transactionCookie = start.cookies.find((c) => c.name === OIDC_TRANSACTION_COOKIE)!;
    assert.ok(transactionCookie, 'the transaction is kept in a cookie');
    assert.equal(transactionCookie.httpOnly, true);
    assert.equal(transactionCookie.sameSite, 'Lax');
    assert.equal(transactionCookie.path, '/auth/oidc');
    assert.ok(Number(transactionCookie.maxAge) <= 600);
    assert.ok(!transactionCookie.value.includes(authorize.searchParams.get('code_challenge')!), 'the challenge is derived, the verifier stays with the browser');

    // The callback.
    assert.ok(callback.searchParams.get('code'));
    assert.equal(done.statusCode, 303, done.body.slice(0, 800));
    assert.equal(done.headers.location, '/cos');
    const session = sessionCookie(done);
    assert.ok(session, 'a session cookie is set');
    const sessionSet = done.cookies.find((c) => c.name === SESSION_COOKIE)!;
    assert.equal(sessionSet.httpOnly, true);
    assert.equal(sessionSet.sameSite, 'Lax');
    assert.ok(!browser.cookies.has(OIDC_TRANSACTION_COOKIE), 'the transaction cookie is cleared');
    const row = await t.ctx.db.selectFrom('web_session').selectAll().where('username', '=', person.username).executeTakeFirstOrThrow();
    assert.equal(row.auth_method, 'oidc');

    const cos = await get(t, '/cos', browser);
    assert.equal(cos.statusCode, 200);
    assert.match(cos.body, /<summary>Olivia Connect<\/summary>/, 'the person is signed in by their login identifier');
    assert.ok(cos.body.includes(co.name));

    // Nothing secret reached the log: not the code, the state, the session or the transaction.
    const code = callback.searchParams.get('code')!;
    const state = callback.searchParams.get('state')!;
    for (const secret of [code, state, session, transactionCookie.value, authorize.searchParams.get('nonce')!]) {
      assert.ok(t.logs.every((l) => !l.includes(secret)), `logged: ${secret.slice(0, 8)}…`);
    }
    assert.ok(t.logs.some((l) => l.includes('"event":"sign_in"') && l.includes('"method":"oidc"') && l.includes(person.username)));
  });

  it('refuses an answer whose state is not the one of this browser’s sign-in', async () => {
    const sub = providerAccount({ preferred_username: `state-${dialect}` });
    const browser = new Browser();
    const { callback } = await startAndAuthorize(t, browser, { as: sub });
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state-of-this-sign-in-000000000000');
    const refused = await get(t, forged.pathname + forged.search, browser);
    assert.equal(refused.statusCode, 400);
    assert.match(errorMessage(refused.body), /does not belong to the sign-in started in this browser/);
    assert.equal(sessionCookie(refused), undefined);

    // An answer to a sign-in another browser started (login CSRF): the states differ.
    const victim = new Browser();
    await get(t, '/auth/oidc/start?next=/cos', victim);
    const attacker = new Browser();
    const { callback: attackerCallback } = await startAndAuthorize(t, attacker, { as: sub });
    const planted = await get(t, attackerCallback.pathname + attackerCallback.search, victim);
    assert.equal(planted.statusCode, 400);
    assert.equal(sessionCookie(planted), undefined);
  });

  it('refuses a callback without the transaction (code verifier), with a forged one, an expired one, or a second time', async () => {
    const sub = providerAccount({ preferred_username: `verifier-${dialect}` });

    const lost = new Browser();
    const { callback } = await startAndAuthorize(t, lost, { as: sub });
    const withoutCookie = await get(t, callback.pathname + callback.search, new Browser());
    assert.equal(withoutCookie.statusCode, 400);
    assert.match(errorMessage(withoutCookie.body), /expired or was started in another browser/);
    assert.equal(sessionCookie(withoutCookie), undefined);

    // A transaction the browser made up (another verifier): the signature does not match.
    const forging = new Browser();
    const { callback: forgedCallback } = await startAndAuthorize(t, forging, { as: sub });
    const made: OidcTransaction = { state: forgedCallback.searchParams.get('state')!, nonce: 'n', codeVerifier: randomPKCECodeVerifier(), next: '/', startedAt: t.clock.now().toISOString() };
    forging.cookies.set(OIDC_TRANSACTION_COOKIE, encodeURIComponent(encodeTransaction(made)));
    const forged = await get(t, forgedCallback.pathname + forgedCallback.search, forging);
    assert.equal(forged.statusCode, 400);
    assert.equal(sessionCookie(forged), undefined);

    // Too late: a transaction lives ten minutes.
    const slow = new Browser();
    const { callback: slowCallback } = await startAndAuthorize(t, slow, { as: sub });
    t.clock.advance(11 * 60_000);
    const expired = await get(t, slowCallback.pathname + slowCallback.search, slow);
    assert.equal(expired.statusCode, 400);
    assert.equal(sessionCookie(expired), undefined);

    // Replayed with the transaction cookie kept from the first, successful use: the code is spent.
    const replayer = new Browser();
    const { callback: once } = await startAndAuthorize(t, replayer, { as: sub });
    const kept = new Browser(Object.fromEntries(replayer.cookies));
    const first = await get(t, once.pathname + once.search, replayer);
    assert.equal(first.statusCode, 303, first.body.slice(0, 500));
    const second = await get(t, once.pathname + once.search, kept);
    assert.equal(second.statusCode, 401);
    assert.match(errorMessage(second.body), /could not be verified/);
    assert.equal(sessionCookie(second), undefined);
  });

  it('shows a clear error when the provider sends no usable username, and starts no session', async () => {
    const sub = providerAccount({ name: 'No Username' });
    const { done } = await signInThroughProvider(t, sub);
    assert.equal(done.statusCode, 401);
    assert.match(done.body, /<title>Sign-in failed · Tessera<\/title>/);
    assert.match(errorMessage(done.body), /did not send a usable username \(the claim “preferred_username”\)/);
    assert.equal(sessionCookie(done), undefined);
    assert.match(done.body, /href="\/sign-in\?next=%2Fcos">Sign in with a Tessera account</);

    const empty = providerAccount({ preferred_username: '   ' });
    assert.equal((await signInThroughProvider(t, empty)).done.statusCode, 401);
  });

  it('shows the provider’s refusal (access_denied) as a page, and nothing an attacker writes in the query', async () => {
    const browser = new Browser();
    const { callback } = await startAndAuthorize(t, browser, { deny: true });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const denied = await get(t, callback.pathname + callback.search, browser);
    assert.equal(denied.statusCode, 401);
    assert.match(errorMessage(denied.body), /Example University did not sign you in: access was denied/);
    assert.equal(sessionCookie(denied), undefined);

    const crafted = await get(t, `/auth/oidc/callback?error=${encodeURIComponent('Call +1 555 0100 to unlock your account')}&error_description=x`, new Browser());
    assert.equal(crafted.statusCode, 401);
    assert.ok(!crafted.body.includes('555'), 'free text from the query is not shown');
    const bare = await get(t, '/auth/oidc/callback', new Browser());
    assert.equal(bare.statusCode, 400);
  });

  it('goes to `next` only when it is a path of this site', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { username: `next-${dialect}`, loginType: 'eppn' });
    const sub = providerAccount({ preferred_username: person.username });
    const inside = await signInThroughProvider(t, sub, `/cos/${co.id}`);
    assert.equal(inside.done.headers.location, `/cos/${co.id}`);
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)']) {
      const { done } = await signInThroughProvider(t, sub, next);
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/', `next=${JSON.stringify(next)}`);
    }
  });

  it('replaces a session the browser already had', async () => {
    const sub = providerAccount({ preferred_username: `again-${dialect}` });
    const { done, browser } = await signInThroughProvider(t, sub);
    const first = sessionCookie(done)!;
    const second = await signInThroughProvider(t, sub, '/cos', browser);
    assert.notEqual(sessionCookie(second.done), first);
    const rows = await t.ctx.db.selectFrom('web_session').select('id').where('username', '=', `again-${dialect}`).execute();
    assert.equal(rows.length, 1);
  });
});

describe('OpenID Connect sign-in when the provider is down', () => {
  let t: TestApp;
  before(async () => {
    // A port nothing listens on.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    t = await createTestApp({ dialect: 'sqlite', config: { publicUrl: PUBLIC_URL, oidc: oidcConfig({ issuer: `http://127.0.0.1:${port}` }) } });
  });
  after(() => t.close());

  it('shows a 503 page for the provider, and local accounts still sign in', async () => {
    const signInPage = await get(t, '/sign-in', new Browser());
    assert.equal(signInPage.statusCode, 200);
    assert.match(signInPage.body, /Sign in with Example University/);

    const start = await get(t, '/auth/oidc/start?next=/cos', new Browser());
    assert.equal(start.statusCode, 503);
    assert.match(start.body, /<title>Sign-in unavailable · Tessera<\/title>/);
    assert.match(errorMessage(start.body), /Example University cannot be reached now/);
    assert.match(start.body, /href="\/sign-in\?next=%2Fcos">Sign in with a Tessera account</);
    assert.ok(t.logs.some((l) => l.includes('oidc_sign_in_failed') && l.includes('discovery failed')));

    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { username: 'local-while-down' });
    await createLocalAccount(t.ctx.db, t.clock, person.username, 'a local password that works');
    const csrfCookie = 'csrf-cookie-value-provider-down';
    const body = form({ username: person.username, password: 'a local password that works', next: '/cos', [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrfCookie) });
    const local = await t.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie: `${CSRF_COOKIE}=${csrfCookie}`, ...body.headers }, payload: body.payload });
    assert.equal(local.statusCode, 303);
    assert.ok(sessionCookie(local));
  });
});

describe('OpenID Connect sign-in without local accounts', () => {
  const t = useTestApp('sqlite', () => ({ config: { publicUrl: PUBLIC_URL, localAccounts: false, trustedHeader: 'X-Remote-User', trustedProxies: ['127.0.0.1'], oidc: oidcConfig() } }));

  it('offers only the provider, and the trusted header still works', async () => {
    const signInPage = await get(t, '/sign-in', new Browser());
    assert.equal(signInPage.statusCode, 200);
    assert.match(signInPage.body, /Sign in with Example University/);
    assert.ok(!signInPage.body.includes('action="/sign-in"'), 'no local account form');
    const post = await t.app.inject({ method: 'POST', url: '/sign-in', ...form({ username: 'x', password: 'y' }) });
    assert.notEqual(post.statusCode, 303);

    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { given: 'Header', family: 'Person', username: 'header-user' });
    const viaHeader = await t.app.inject({ method: 'GET', url: '/cos', headers: { 'x-remote-user': person.username } });
    assert.equal(viaHeader.statusCode, 200);
    assert.match(viaHeader.body, /<summary>Header Person<\/summary>/);

    const sub = providerAccount({ preferred_username: person.username });
    const { done } = await signInThroughProvider(t, sub);
    assert.equal(done.statusCode, 303);
  });
});


forEachDialect('OpenID Connect sign-in namespaces', (dialect) => {
  const t = useTestApp(dialect, () => ({ config: { publicUrl: PUBLIC_URL, oidc: oidcConfig({ usernameClaim: 'email', identifierType: 'mail' }) } }));

  it('takes an email claim only with email_verified, and only as the configured identifier type', async () => {
    const co = await buildCo(t);
    const mail = `mia-${dialect}-${Date.now()}@example.org`;
    const person = await buildPerson(t, co.id, { given: 'Mia', family: 'Mail', username: mail, loginType: 'mail' });
    const unverified = await signInThroughProvider(t, providerAccount({ email: mail, email_verified: false }));
    assert.equal(unverified.done.statusCode, 401);
    assert.match(errorMessage(unverified.done.body), /has not verified your email address/);
    assert.equal(sessionCookie(unverified.done), undefined, 'no session');

    const verified = await signInThroughProvider(t, providerAccount({ email: mail, email_verified: true }));
    assert.equal(verified.done.statusCode, 303);
    const page = await get(t, `/cos/${co.id}/people/${person.id}`, verified.browser);
    assert.equal(page.statusCode, 200, 'signed in as the person with the mail login identifier');

    // A uid of the same value is another namespace: the provider's email never reaches it.
    const uidHolder = await buildPerson(t, co.id, { username: `uid-${dialect}-${Date.now()}` });
    const other = await signInThroughProvider(t, providerAccount({ email: uidHolder.username, email_verified: true }));
    assert.equal(other.done.statusCode, 303);
    assert.equal((await get(t, `/cos/${co.id}/people/${uidHolder.id}`, other.browser)).statusCode, 404);
  });
});

describe('OpenID Connect over https', () => {
  const t = useTestApp('sqlite', () => ({ config: { publicUrl: 'https://tessera.test', secureCookies: true, oidc: oidcConfig() } }));

  it('keeps the transaction in a __Host- cookie: Secure, path /, no domain', async () => {
    const start = await t.app.inject({ method: 'GET', url: '/auth/oidc/start?next=/cos' });
    assert.equal(start.statusCode, 302);
    const cookie = [start.headers['set-cookie']].flat().find((c) => c?.startsWith(`__Host-${OIDC_TRANSACTION_COOKIE}=`));
    assert.ok(cookie, 'the transaction cookie carries the __Host- prefix');
    assert.match(cookie, /; Path=\/(;|$)/);
    assert.match(cookie, /; Secure/);
    assert.doesNotMatch(cookie, /Domain=/i);
  });
});
