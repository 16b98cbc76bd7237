import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLocalAccount } from '../auth/local-account.service.ts';
import { SESSION_COOKIE } from '../auth/session.service.ts';
import { apiAs } from '../../../test/support/api-client.ts';
import { buildApiUser, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { CSRF_COOKIE, CSRF_FIELD, csrfTokenFor } from './csrf.ts';

forEachDialect('Logging', (dialect) => {
  const t = useTestApp(dialect);

  it('writes structured JSON lines with request ids and no credentials', async () => {
    const co = await buildCo(t);
    const { authorization } = await buildApiUser(t, co.id, true);
    const [username, key] = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8').split(':') as [string, string];
    const person = await buildPerson(t, co.id, { admin: true });
    const password = 'correct horse battery staple 7!';
    await createLocalAccount(t.ctx.db, t.clock, person.username, password);
    const wrongPassword = 'not the password 8?';
    const wrongKeyHeader = `Basic ${Buffer.from(`${username}:${key}-wrong`).toString('base64')}`;
    const linesBefore = t.logs.length;

    // API calls: a success, a creation with a body, a wrong key.
    const api = apiAs(t, authorization);
    const listed = await api('GET', `/api/v1/cos/${co.id}/people`);
    assert.equal(listed.status, 200);
    assert.equal((await api('POST', `/api/v1/cos/${co.id}/people`, { name: { given: 'Logged' } })).status, 201);
    assert.equal((await apiAs(t, wrongKeyHeader)('GET', `/api/v1/cos/${co.id}/people`)).status, 401);

    // A sign-in form post, and a failed one.
    const csrfCookie = 'csrf-cookie-value-for-the-logging-test';
    const signIn = (pw: string) =>
      t.app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${CSRF_COOKIE}=${csrfCookie}` },
        payload: new URLSearchParams({ username: person.username, password: pw, [CSRF_FIELD]: csrfTokenFor(t.ctx.config.secretKey, csrfCookie), next: '/' }).toString(),
      });
    const signedIn = await signIn(password);
    assert.equal(signedIn.statusCode, 303, signedIn.body.slice(0, 300));
    const session = signedIn.cookies.find((c) => c.name === SESSION_COOKIE)?.value;
    assert.ok(session);
    assert.equal((await signIn(wrongPassword)).statusCode, 401);
    // A page fetched with the session cookie.
    await t.app.inject({ method: 'GET', url: '/', headers: { cookie: `${SESSION_COOKIE}=${session}; ${CSRF_COOKIE}=${csrfCookie}` } });

    const lines = t.logs.slice(linesBefore);
    assert.ok(lines.length >= 10, `logged ${lines.length} lines`);
    const secrets: Record<string, string> = {
      'API key': key,
      'Authorization header': authorization.slice('Basic '.length),
      'wrong-key Authorization header': wrongKeyHeader.slice('Basic '.length),
      password,
      'wrong password': wrongPassword,
      'session cookie': session,
      'CSRF cookie': csrfCookie,
    };
    for (const line of lines) {
      for (const [what, secret] of Object.entries(secrets)) assert.ok(!line.includes(secret), `the log holds the ${what}: ${line}`);
      for (const encoded of [encodeURIComponent(password), encodeURIComponent(wrongPassword).replace(/%20/g, '+')]) assert.ok(!line.includes(encoded), line);
    }

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) {
      assert.equal(typeof entry.level, 'number');
      assert.equal(typeof entry.time, 'number');
      assert.equal(typeof entry.msg, 'string');
    }
    const requestEntries = entries.filter((e) => e.req || e.res);
    assert.ok(requestEntries.length >= 12);
    for (const entry of requestEntries) assert.match(String(entry.reqId), /^[0-9a-f-]{36}$/, 'request lines carry the request id');
    const listedId = String(listed.headers['x-request-id']);
    assert.ok(entries.some((e) => e.reqId === listedId && e.res), 'the request id answered is the one logged');
    assert.ok(entries.some((e) => e.event === 'sign_in' && e.username === person.username), 'sign-in is logged as an event');
  });
});
