import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, it } from 'node:test';
import { CSRF_COOKIE, CSRF_FIELD, csrfTokenFor } from '../http/csrf.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, form } from '../../../test/support/test-app.ts';
import type { AppError } from '../errors/app-error.ts';
import { checkLocalPassword, createLocalAccount, setLocalPassword } from './local-account.service.ts';
import { endSession, findSession, purgeExpiredSessions, SESSION_COOKIE, startSession } from './session.service.ts';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

forEachDialect('Sessions and local accounts', (dialect) => {
  const t = useTestApp(dialect);

  /** Every value of every row of the table, as text, to prove a secret is in none of them. */
  async function allValues(table: 'web_session' | 'local_account'): Promise<string[]> {
    const rows = await t.ctx.db.selectFrom(table).selectAll().execute();
    return rows.flatMap((r) => Object.values(r).map(String));
  }

  it('stores an argon2id hash of a local password, never the password', async () => {
    const password = 'correct horse battery staple';
    await createLocalAccount(t.ctx.db, t.clock, 'ada', password);
    const row = await t.ctx.db.selectFrom('local_account').selectAll().where('username', '=', 'ada').executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok((await allValues('local_account')).every((v) => !v.includes(password) && !v.includes('horse')));
    assert.equal(row.created_at, t.clock.now().toISOString());

    assert.equal(await checkLocalPassword(t.ctx.db, 'ada', password), true);
    assert.equal(await checkLocalPassword(t.ctx.db, 'ada', 'correct horse battery stapl'), false);
    assert.equal(await checkLocalPassword(t.ctx.db, 'ada', ''), false);
    assert.equal(await checkLocalPassword(t.ctx.db, 'nobody', password), false);

    // The same password twice gives two different hashes (a salt per hash).
    await createLocalAccount(t.ctx.db, t.clock, 'ada2', password);
    const other = await t.ctx.db.selectFrom('local_account').select('password_hash').where('username', '=', 'ada2').executeTakeFirstOrThrow();
    assert.notEqual(other.password_hash, row.password_hash);

    await assert.rejects(createLocalAccount(t.ctx.db, t.clock, 'ada', 'another password'), (e: AppError) => e.code === 'ACCOUNT_USERNAME_TAKEN' && e.status === 409 && e.field === 'username');
  });

  it('changes a local password: the old one stops working', async () => {
    await createLocalAccount(t.ctx.db, t.clock, 'grace', 'first password!');
    assert.equal(await setLocalPassword(t.ctx.db, 'grace', 'second password!'), true);
    assert.equal(await checkLocalPassword(t.ctx.db, 'grace', 'first password!'), false);
    assert.equal(await checkLocalPassword(t.ctx.db, 'grace', 'second password!'), true);
    assert.equal(await setLocalPassword(t.ctx.db, 'no-such-account', 'whatever password'), false);
    assert.equal(await t.ctx.db.selectFrom('local_account').select('id').where('username', '=', 'no-such-account').executeTakeFirst(), undefined);
  });

  it('ends the sessions signed in with the old password when the password changes', async () => {
    await createLocalAccount(t.ctx.db, t.clock, 'hedy', 'leaked password!');
    // Whoever learnt the old password signed in with it; resetting it must throw them out.
    const intruder = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'hedy' }, 'local', 12);
    const viaProvider = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'hedy' }, 'oidc', 12);
    const someoneElse = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'grace' }, 'local', 12);
    assert.equal(await setLocalPassword(t.ctx.db, 'hedy', 'a fresh password!'), true);
    assert.equal(await findSession(t.ctx.db, t.clock, intruder), undefined, 'the password session ends');
    assert.ok(await findSession(t.ctx.db, t.clock, viaProvider), 'a session of another sign-in method stays');
    assert.ok(await findSession(t.ctx.db, t.clock, someoneElse), "other accounts' sessions stay");
  });

  it('stores only the SHA-256 of the session cookie value', async () => {
    const value = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'alan' }, 'local', 12);
    assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    const row = await t.ctx.db.selectFrom('web_session').selectAll().where('username', '=', 'alan').executeTakeFirstOrThrow();
    assert.equal(row.id, sha256(value));
    assert.equal(row.auth_method, 'local');
    assert.equal(row.expires_at, new Date(t.clock.now().getTime() + 12 * HOUR).toISOString());
    assert.ok((await allValues('web_session')).every((v) => !v.includes(value)));

    assert.deepEqual(await findSession(t.ctx.db, t.clock, value), { login: { type: 'uid', value: 'alan' }, authMethod: 'local', personIds: [], expiresAt: row.expires_at });
    // The stored hash is no cookie: presenting it finds nothing.
    assert.equal(await findSession(t.ctx.db, t.clock, row.id), undefined);
    assert.equal(await findSession(t.ctx.db, t.clock, 'not a cookie'), undefined);
    // The last character changed (to one it is not), so the cookie differs from the real one.
    const tampered = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    assert.equal(await findSession(t.ctx.db, t.clock, tampered), undefined);
  });

  it('ends a session at its expiry even when it is in use', async () => {
    const value = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'expiring' }, 'local', 1);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(19 * MINUTE);
      assert.ok(await findSession(t.ctx.db, t.clock, value));
    }
    t.clock.advance(3 * MINUTE);
    assert.equal(await findSession(t.ctx.db, t.clock, value), undefined);
    assert.equal(await t.ctx.db.selectFrom('web_session').select('id').where('id', '=', sha256(value)).executeTakeFirst(), undefined, 'the expired row is removed');
  });

  it('ends a session after two idle hours; activity keeps it alive', async () => {
    const active = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'busy' }, 'local', 12);
    const idle = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'idle' }, 'local', 12);
    t.clock.advance(90 * MINUTE);
    assert.ok(await findSession(t.ctx.db, t.clock, active));
    const touched = await t.ctx.db.selectFrom('web_session').select('last_seen_at').where('id', '=', sha256(active)).executeTakeFirstOrThrow();
    assert.equal(touched.last_seen_at, t.clock.now().toISOString());
    t.clock.advance(31 * MINUTE);
    assert.ok(await findSession(t.ctx.db, t.clock, active), 'seen 31 minutes ago');
    assert.equal(await findSession(t.ctx.db, t.clock, idle), undefined, 'idle for 121 minutes');
    assert.equal(await t.ctx.db.selectFrom('web_session').select('id').where('id', '=', sha256(idle)).executeTakeFirst(), undefined);
  });

  it('ends a session on sign-out, and purges expired ones', async () => {
    const value = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'leaving' }, 'local', 12);
    await endSession(t.ctx.db, value);
    assert.equal(await findSession(t.ctx.db, t.clock, value), undefined);
    assert.equal(await t.ctx.db.selectFrom('web_session').select('id').where('username', '=', 'leaving').executeTakeFirst(), undefined);

    const short = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'short' }, 'local', 1);
    const long = await startSession(t.ctx.db, t.clock, { type: 'uid', value: 'long' }, 'local', 24);
    t.clock.advance(HOUR);
    await purgeExpiredSessions(t.ctx.db, t.clock);
    const left = await t.ctx.db.selectFrom('web_session').select('id').where('id', 'in', [sha256(short), sha256(long)]).execute();
    assert.deepEqual(left, [{ id: sha256(long) }]);
  });

  it('signs in over HTTP with a local account, and signs out', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { username: 'web-user' });
    const password = 'a long web password';
    await createLocalAccount(t.ctx.db, t.clock, person.username, password);
    const csrfCookie = 'csrf-cookie-value-for-the-test';
    const csrf = csrfTokenFor(t.ctx.config.secretKey, csrfCookie);
    const cookie = `${CSRF_COOKIE}=${csrfCookie}`;

    const wrong = await t.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie, ...form({}).headers }, payload: form({ username: person.username, password: 'wrong password', [CSRF_FIELD]: csrf }).payload });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.cookies.find((c) => c.name === SESSION_COOKIE), undefined);

    const signIn = form({ username: person.username, password, next: '/cos', [CSRF_FIELD]: csrf });
    const res = await t.app.inject({ method: 'POST', url: '/sign-in', headers: { cookie, ...signIn.headers }, payload: signIn.payload });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/cos');
    const session = res.cookies.find((c) => c.name === SESSION_COOKIE)!;
    assert.ok(session, 'a session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    const row = await t.ctx.db.selectFrom('web_session').selectAll().where('username', '=', person.username).executeTakeFirstOrThrow();
    assert.equal(row.id, sha256(session.value));
    assert.ok((await allValues('web_session')).every((v) => !v.includes(session.value)));
    assert.ok(t.logs.every((l) => !l.includes(session.value) && !l.includes(password)), 'neither the cookie nor the password is logged');

    const headers = { cookie: `${cookie}; ${SESSION_COOKIE}=${session.value}` };
    const home = await t.app.inject({ method: 'GET', url: '/', headers });
    assert.equal(home.statusCode, 303, 'signed in: the home page sends the person to their COs');

    const out = form({ [CSRF_FIELD]: csrf });
    const signOut = await t.app.inject({ method: 'POST', url: '/sign-out', headers: { ...headers, ...out.headers }, payload: out.payload });
    assert.equal(signOut.statusCode, 303);
    assert.equal(await t.ctx.db.selectFrom('web_session').select('id').where('username', '=', person.username).executeTakeFirst(), undefined);
    const after = await t.app.inject({ method: 'GET', url: '/', headers });
    assert.equal(after.statusCode, 200, 'the old cookie no longer signs anybody in');
  });
});
