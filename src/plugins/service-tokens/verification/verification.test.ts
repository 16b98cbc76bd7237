import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { setPersonStatus } from '../../../core/people/person.service.ts';
import { buildApiUser, buildCo, buildPerson, createTestApp, useTestApp, forEachDialect } from '../../../../test/support/test-app.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { generateServiceToken } from '../tokens/service-token.service.ts';
import { revokeServiceToken } from '../tokens/token-revocation.service.ts';
import { createVerifierKey, revokeVerifierKey } from './verification-keys.service.ts';
import { withLastCharacterChanged } from '../../../../test/support/altered.ts';

const DAY = 86_400_000;

forEachDialect('token verification API', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin({ failuresPerIdentifier: 3, failuresPerAddress: 1000 })] });

  async function scenario(opts: { scheme?: 'SSHA512' | 'ARGON2ID'; tokenType?: string } = {}) {
    const co = await buildCo(t);
    const service = await buildService(t, co.id, { name: 'Git' });
    await enableTokens(t, co.id, service.id, { storageScheme: opts.scheme ?? 'SSHA512', maxLifetimeDays: 30, ...(opts.tokenType ? { tokenType: opts.tokenType } : {}) });
    const person = await buildPerson(t, co.id);
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'git server');
    const { secret, token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'laptop' });
    return { co, service, person, key, secret, token };
  }

  async function verify(key: string, identifier: string, token: string, address = '127.0.0.1') {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier, token }, remoteAddress: address });
    return { status: res.statusCode, body: res.json() as { valid: boolean; person: { identifier: string; status: string; coId: string } | null; token: { id: string; expiresAt: string | null } | null }, headers: res.headers };
  }

  it('accepts a valid token and says who it belongs to', async () => {
    const s = await scenario();
    const r = await verify(s.key, s.person.username, s.secret);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.deepEqual(r.body, { valid: true, person: { id: s.person.id, identifier: s.person.username, status: 'active', coId: s.co.id }, token: { id: s.token.id, expiresAt: s.token.expiresAt } });
  });

  it('answers with the headers a machine needs: request id, nosniff, no-store; an error names its request id', async () => {
    const s = await scenario();
    const r = await verify(s.key, s.person.username, s.secret);
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: 'Bearer tsv_nope' }, payload: { identifier: 'x', token: 'y' } });
    assert.equal(refused.statusCode, 401);
    assert.equal((refused.json() as { error: { requestId: string } }).error.requestId, refused.headers['x-request-id']);
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
  });

  it('gives one and the same answer for a wrong token, an unknown person, a revoked, an expired token and a suspended person', async () => {
    const s = await scenario();
    const invalid = { valid: false, person: null, token: null };
    assert.deepEqual((await verify(s.key, s.person.username, withLastCharacterChanged(s.secret))).body, invalid);
    assert.deepEqual((await verify(s.key, 'nobody-at-all', s.secret)).body, invalid);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, s.co.id, s.person.id, 'suspended');
    assert.deepEqual((await verify(s.key, s.person.username, s.secret)).body, invalid);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, s.co.id, s.person.id, 'active');
    assert.equal((await verify(s.key, s.person.username, s.secret)).body.valid, true, 'valid again once reactivated');

    const s2 = await scenario();
    await revokeServiceToken(tokenContext(t), SYSTEM_ACTOR, s2.co.id, s2.person.id, s2.token.id);
    assert.deepEqual((await verify(s2.key, s2.person.username, s2.secret)).body, invalid);

    const s3 = await scenario();
    t.clock.advance(31 * DAY);
    assert.deepEqual((await verify(s3.key, s3.person.username, s3.secret)).body, invalid);
  });

  it('does not let one service verify another service’s tokens', async () => {
    const s = await scenario();
    const other = await buildService(t, s.co.id, { name: 'Mail' });
    await enableTokens(t, s.co.id, other.id);
    const { key: otherKey } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, s.co.id, other.id, 'mail server');
    assert.equal((await verify(otherKey, s.person.username, s.secret)).body.valid, false);
    const foreign = await scenario();
    assert.equal((await verify(foreign.key, s.person.username, s.secret)).body.valid, false);
  });

  it('refuses callers without a valid key, and revoked keys', async () => {
    const s = await scenario();
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', payload: { identifier: 'x', token: 'y' } });
    assert.equal(none.statusCode, 401);
    assert.equal((none.json() as { error: { code: string } }).error.code, 'VERIFIER_AUTHENTICATION_REQUIRED');
    assert.equal((await verify(`${s.key.slice(0, -2)}AA`, s.person.username, s.secret)).status, 401);
    const [, hex] = /^tsv_([0-9a-f]{32})_/.exec(s.key)!;
    const id = `${hex!.slice(0, 8)}-${hex!.slice(8, 12)}-${hex!.slice(12, 16)}-${hex!.slice(16, 20)}-${hex!.slice(20)}`;
    await revokeVerifierKey(tokenContext(t), SYSTEM_ACTOR, s.co.id, s.service.id, id);
    t.clock.advance(10_000);
    assert.equal((await verify(s.key, s.person.username, s.secret)).status, 401);
  });

  it('answers 404 to every operation on the verification keys of another CO’s service, listing included', async () => {
    const s = await scenario();
    const other = await buildCo(t);
    const { authorization } = await buildApiUser(t, other.id, true);
    const base = `/api/v1/cos/${other.id}/services/${s.service.id}/verification-keys`;
    const answers = [
      await t.app.inject({ method: 'GET', url: base, headers: { authorization } }),
      await t.app.inject({ method: 'POST', url: base, headers: { authorization }, payload: { label: 'stolen' } }),
      await t.app.inject({ method: 'DELETE', url: `${base}/${s.token.id}`, headers: { authorization } }),
    ];
    assert.deepEqual(answers.map((a) => a.statusCode), [404, 404, 404]);
    assert.equal((answers[0]!.json() as { error: { code: string } }).error.code, 'SERVICE_NOT_FOUND');
    const own = await t.app.inject({ method: 'GET', url: `/api/v1/cos/${s.co.id}/services/${s.service.id}/verification-keys`, headers: { authorization: (await buildApiUser(t, s.co.id, true)).authorization } });
    assert.equal(own.statusCode, 200);
    assert.equal((own.json() as { keys: unknown[] }).keys.length, 1, 'the CO’s own admins still list the key');
  });

  // Per-identifier limits apply where guessing is plausible: a type under 100 effective bits
  // (verification-abuse.test.ts shows a correct high-entropy token is never refused).
  it('rate limits failures per (service, identifier) with Retry-After, and recovers', async () => {
    const s = await scenario({ scheme: 'ARGON2ID', tokenType: 'short-grouped' });
    for (let i = 0; i < 3; i++) assert.equal((await verify(s.key, s.person.username, 'wrong')).status, 200);
    const limited = await verify(s.key, s.person.username, s.secret);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await verify(s.key, 'someone-else', 'wrong')).status, 200, 'other identifiers are not limited');
    t.clock.advance(61_000);
    assert.equal((await verify(s.key, s.person.username, s.secret)).body.valid, true);
  });

  it('counts guesses still being checked: many sent at once get no further than the limit', async () => {
    // argon2id hashes off the event loop, so the checks really overlap (on SQLite too).
    const s = await scenario({ scheme: 'ARGON2ID', tokenType: 'short-grouped' });
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => verify(s.key, s.person.username, `wrong-${i}`)));
    assert.equal(guesses.filter((g) => g.status === 200).length, 3, 'three guesses checked, however many arrive together');
    assert.ok(guesses.filter((g) => g.status !== 200).every((g) => g.status === 429 && Number(g.headers['retry-after']) > 0));
    t.clock.advance(61_000);
    const correct = await Promise.all(Array.from({ length: 8 }, () => verify(s.key, s.person.username, s.secret)));
    assert.ok(correct.every((c) => c.status === 200 && c.body.valid), 'correct tokens arriving together are never refused for their number');
  });

  it('rate limits failures per client address', async () => {
    const limited = await createTestApp({ dialect, plugins: [serviceTokensPlugin({ failuresPerIdentifier: 100, failuresPerAddress: 2 })] });
    try {
      const co = await buildCo(limited);
      const service = await buildService(limited, co.id);
      await enableTokens(limited, co.id, service.id);
      const { key } = await createVerifierKey(tokenContext(limited), SYSTEM_ACTOR, co.id, service.id, 'k');
      const call = (identifier: string, address: string) =>
        limited.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier, token: 'wrong' }, remoteAddress: address });
      assert.equal((await call('a', '10.9.9.1')).statusCode, 200);
      assert.equal((await call('b', '10.9.9.1')).statusCode, 200);
      assert.equal((await call('c', '10.9.9.1')).statusCode, 429);
      assert.equal((await call('c', '10.9.9.2')).statusCode, 200, 'another address is not limited');
    } finally {
      await limited.close();
    }
  });

  it('records last use at most once a minute per token, and shows it on the token page', async () => {
    const s = await scenario();
    const lastUsed = async () =>
      (await t.db.selectFrom('service_token').selectAll().where('id', '=', s.token.id).executeTakeFirstOrThrow());
    await verify(s.key, s.person.username, s.secret, '192.0.2.10');
    await new Promise((r) => setTimeout(r, 50));
    const first = await lastUsed();
    assert.equal(first.last_used_address, '192.0.2.10');
    t.clock.advance(10_000);
    await verify(s.key, s.person.username, s.secret, '192.0.2.11');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await lastUsed(), first, 'no write within the minute');
    t.clock.advance(60_000);
    await verify(s.key, s.person.username, s.secret, '192.0.2.12');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await lastUsed()).last_used_address, '192.0.2.12');
  });

  it('verifies argon2id tokens too', async () => {
    const s = await scenario({ scheme: 'ARGON2ID' });
    assert.equal((await verify(s.key, s.person.username, s.secret)).body.valid, true);
    assert.equal((await verify(s.key, s.person.username, `${s.secret}x`)).body.valid, false);
  });
});
