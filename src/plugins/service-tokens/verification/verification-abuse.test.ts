import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { buildCo, buildPerson, forEachDialect, useTestApp } from '../../../../test/support/test-app.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { generateServiceToken } from '../tokens/service-token.service.ts';
import { createVerifierKey } from './verification-keys.service.ts';

/**
 * The lockout attempt: someone who can reach a service makes its users fail many times. A correct
 * high-entropy token still works, and failures from one address do not block other users; where
 * guessing is plausible (types under 100 effective bits), the per-identifier limit still holds.
 */
forEachDialect('Verification abuse', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin({ failuresPerIdentifier: 3, failuresPerAddress: 5 })] });

  async function scenario(tokenType = 'base62-prefixed', storageScheme: 'SSHA512' | 'ARGON2ID' = 'SSHA512') {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { tokenType, storageScheme });
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'mail server');
    const person = async () => {
      const p = await buildPerson(t, co.id);
      const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, p.id, { serviceId: service.id, label: 'laptop' });
      return { username: p.username, secret };
    };
    return { key, coId: co.id, serviceId: service.id, alice: await person(), bob: await person() };
  }

  async function verify(key: string, identifier: string, token: string, clientAddress?: string) {
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` },
      payload: { identifier, token, ...(clientAddress ? { clientAddress } : {}) }, remoteAddress: '10.0.0.7',
    });
    return { status: res.statusCode, valid: res.statusCode === 200 ? (res.json() as { valid: boolean }).valid : undefined };
  }

  it('accepts a correct high-entropy token after many failures for its person, from any address', async () => {
    const s = await scenario();
    for (let i = 0; i < 30; i++) await verify(s.key, s.alice.username, `tst_wrong${i}`, `203.0.113.${i % 3}`);
    assert.deepEqual(await verify(s.key, s.alice.username, s.alice.secret, '198.51.100.4'), { status: 200, valid: true });
    // Even from the address that failed, and without a client address (the service's own, which the failures also hit).
    assert.deepEqual(await verify(s.key, s.alice.username, s.alice.secret, '203.0.113.0'), { status: 200, valid: true });
    assert.deepEqual(await verify(s.key, s.alice.username, s.alice.secret), { status: 200, valid: true });
  });

  it('limits failures per end-user address, not per service: others are not blocked', async () => {
    const s = await scenario();
    const attacker = '2001:db8::bad';
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push((await verify(s.key, s.alice.username, 'tst_guess', attacker)).status);
    assert.deepEqual(answers, [200, 200, 200, 200, 200, 429, 429, 429], 'the attacking address is slowed after 5 failures');
    assert.deepEqual(await verify(s.key, s.bob.username, 'tst_typo', '192.0.2.10'), { status: 200, valid: false }, 'another user’s failure is an answer, not 429');
    assert.deepEqual(await verify(s.key, s.bob.username, s.bob.secret, '192.0.2.10'), { status: 200, valid: true });
  });

  it('refuses a clientAddress that is not an IP address', async () => {
    const s = await scenario();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${s.key}` }, payload: { identifier: 'a', token: 'b', clientAddress: 'not an address' } });
    assert.equal(res.statusCode, 400);
    assert.equal((res.json() as { error: { field: string } }).error.field, 'clientAddress');
  });

  it('keeps the per-identifier limit where guessing is plausible (types under 100 bits)', async () => {
    const s = await scenario('short-grouped', 'ARGON2ID');
    // From addresses no other test used (the limiter lives as long as the app).
    for (let i = 0; i < 3; i++) assert.equal((await verify(s.key, s.alice.username, 'aaaa-bbbb-cccc', `100.64.0.${i}`)).status, 200);
    assert.equal((await verify(s.key, s.alice.username, s.alice.secret, '198.51.100.4')).status, 429, 'a 45-bit token is guessable: its identifier is locked for the minute');
    assert.deepEqual(await verify(s.key, s.bob.username, s.bob.secret, '198.51.100.4'), { status: 200, valid: true }, 'other identifiers are not');
    t.clock.advance(61_000);
    assert.deepEqual(await verify(s.key, s.alice.username, s.alice.secret, '198.51.100.4'), { status: 200, valid: true });
  });

  it('counts an IPv6 client by its /64: rotating addresses within it does not escape the limit', async () => {
    const s = await scenario();
    const answers = [];
    for (let i = 1; i <= 8; i++) answers.push((await verify(s.key, s.alice.username, 'tst_guess', `2001:db8:7:7::${i.toString(16)}`)).status);
    assert.deepEqual(answers, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert.equal((await verify(s.key, s.alice.username, 'tst_guess', '2001:0db8:0007:0007:0000:0000:0000:00aa')).status, 429, 'another spelling of the same network');
    assert.deepEqual(await verify(s.key, s.bob.username, 'tst_typo', '2001:db8:7:8::1'), { status: 200, valid: false }, 'the next /64 is another client');
  });

  it('keeps the per-identifier limit for a live token of a guessable type after the service moved to an unguessable one', async () => {
    const s = await scenario('short-grouped', 'ARGON2ID');
    await enableTokens(t, s.coId, s.serviceId, { tokenType: 'base62-prefixed', storageScheme: 'ARGON2ID' });
    for (let i = 0; i < 3; i++) assert.equal((await verify(s.key, s.alice.username, 'aaaa-bbbb-cccc', `100.64.1.${i}`)).status, 200);
    assert.equal((await verify(s.key, s.alice.username, s.alice.secret, '198.51.100.5')).status, 429, 'Alice’s 45-bit token is still live: her identifier is locked for the minute');
    t.clock.advance(61_000);
    assert.deepEqual(await verify(s.key, s.alice.username, s.alice.secret, '198.51.100.5'), { status: 200, valid: true });
  });
});

forEachDialect('Verification under a flood of argon2id checks', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin({ slowChecks: { concurrent: 1, queued: 1 } })] });

  it('checks a few at a time and answers 503 VERIFY_BUSY with Retry-After beyond its queue; every other answer is right', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { tokenType: 'base62-prefixed', storageScheme: 'ARGON2ID' });
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'proxy');
    const p = await buildPerson(t, co.id);
    const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, p.id, { serviceId: service.id, label: 'laptop' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier: p.username, token: i % 2 ? secret : 'tst_wrong', clientAddress: `192.0.2.${i}` } }),
      ),
    );
    const busy = answers.filter((r) => r.statusCode === 503);
    assert.ok(busy.length > 0, `12 at once with room for 2: ${answers.map((r) => r.statusCode).join(' ')}`);
    for (const r of busy) {
      assert.equal(r.json().error.code, 'VERIFY_BUSY');
      assert.equal(r.headers['retry-after'], '1');
    }
    answers.forEach((r, i) => {
      if (r.statusCode !== 503) assert.deepEqual([r.statusCode, r.json().valid], [200, i % 2 === 1], `request ${i}`);
    });
    const later = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier: p.username, token: secret } });
    assert.deepEqual([later.statusCode, later.json().valid], [200, true], 'the queue drains');
  });
});
