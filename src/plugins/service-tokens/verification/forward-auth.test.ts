import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { buildCo, buildPerson, forEachDialect, useTestApp } from '../../../../test/support/test-app.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { generateServiceToken } from '../tokens/service-token.service.ts';
import { FORWARD_AUTH_URL, headerSafe } from './forward-auth.api.ts';
import { createVerifierKey, revokeVerifierKey } from './verification-keys.service.ts';
import { withLastCharacterChanged } from '../../../../test/support/altered.ts';

// What a reverse proxy does not show (test/integrations/nginx-forward-auth.test.ts runs a real one).
forEachDialect('forward authentication endpoint', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin({ failuresPerIdentifier: 3, failuresPerAddress: 1000 })] });

  async function scenario(setting: { tokenType?: string; storageScheme?: 'ARGON2ID' } = {}) {
    const co = await buildCo(t);
    const service = await buildService(t, co.id, { name: 'Wiki' });
    await enableTokens(t, co.id, service.id, setting);
    const person = await buildPerson(t, co.id);
    const { key, verifier } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'proxy');
    const { secret, token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'laptop' });
    return { co, service, person, key, verifierId: verifier.id, secret, token };
  }

  function ask(key: string | undefined, credentials: string | undefined, opts: { method?: 'GET' | 'HEAD' | 'POST'; address?: string } = {}) {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers['x-tessera-verification-key'] = key;
    if (credentials !== undefined) headers.authorization = credentials.startsWith('Basic ') ? credentials : `Basic ${Buffer.from(credentials).toString('base64')}`;
    return t.app.inject({ method: opts.method ?? 'GET', url: FORWARD_AUTH_URL, headers, remoteAddress: opts.address ?? '127.0.0.1' });
  }

  it('answers 204 with the identity headers for a valid token, on GET, HEAD and POST alike, and records the last use', async () => {
    const s = await scenario();
    for (const method of ['GET', 'HEAD', 'POST'] as const) {
      const res = await ask(s.key, `${s.person.username}:${s.secret}`, { method, address: '192.0.2.40' });
      assert.equal(res.statusCode, 204, method);
      assert.equal(res.headers['x-tessera-identifier'], s.person.username);
      assert.equal(res.headers['x-tessera-person-id'], s.person.id);
      assert.equal(res.headers['x-tessera-co-id'], s.co.id);
      assert.equal(res.headers['x-tessera-groups'], 'CO:members:active');
      assert.equal(res.headers['cache-control'], 'no-store');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const row = await t.db.selectFrom('service_token').select(['last_used_address', 'last_used_at']).where('id', '=', s.token.id).executeTakeFirstOrThrow();
    assert.equal(row.last_used_address, '192.0.2.40');
    assert.ok(row.last_used_at);
  });

  it('answers one 401 with a Basic challenge for missing, malformed, wrong and unknown credentials', async () => {
    const s = await scenario();
    const answers = await Promise.all([
      ask(s.key, undefined),
      ask(s.key, 'Bearer something'),
      ask(s.key, 'Basic !!!'),
      ask(s.key, `${s.person.username}`),
      ask(s.key, `${s.person.username}:`),
      ask(s.key, `${s.person.username}:${withLastCharacterChanged(s.secret)}`),
      ask(s.key, `someone-else:${s.secret}`),
      ask(s.key, `${s.person.username}\u0000:${s.secret}`),
      ask(s.key, `${'x'.repeat(300)}:${s.secret}`),
    ]);
    for (const res of answers) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Service token", charset="UTF-8"');
      assert.equal((res.json() as { error: { code: string } }).error.code, 'FORWARD_AUTH_CREDENTIALS_REQUIRED');
      assert.equal(res.headers['x-tessera-identifier'], undefined);
    }
  });

  it('answers 403 without a valid verification key, and once the key is revoked (after its few seconds of cache)', async () => {
    const s = await scenario();
    const credentials = `${s.person.username}:${s.secret}`;
    const altered = `${s.key.slice(0, -1)}${s.key.endsWith('A') ? 'B' : 'A'}`;
    for (const key of [undefined, '', 'tsv_nonsense', altered]) {
      const res = await ask(key, credentials);
      assert.equal(res.statusCode, 403, String(key));
      assert.equal((res.json() as { error: { code: string } }).error.code, 'FORWARD_AUTH_KEY_INVALID');
    }
    assert.equal((await ask(s.key, credentials)).statusCode, 204);
    await revokeVerifierKey(tokenContext(t), SYSTEM_ACTOR, s.co.id, s.service.id, s.verifierId);
    t.clock.advance(6_000);
    assert.equal((await ask(s.key, credentials)).statusCode, 403);
  });

  // For a guessable type (under 100 effective bits); a correct high-entropy token is never refused (verification-abuse.test.ts).
  it('answers 429 with Retry-After once an identifier has failed too often, sharing the verification API’s limits', async () => {
    const s = await scenario({ tokenType: 'short-grouped', storageScheme: 'ARGON2ID' });
    for (let i = 0; i < 3; i++) assert.equal((await ask(s.key, `${s.person.username}:wrong-${i}`)).statusCode, 401);
    const limited = await ask(s.key, `${s.person.username}:${s.secret}`);
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const api = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${s.key}` }, payload: { identifier: s.person.username, token: s.secret } });
    assert.equal(api.statusCode, 429, 'the same limiter as the verification API');
  });

  it('percent-encodes what may not stand in a header, and the list separator in group names', () => {
    assert.equal(headerSafe('alice@example.org'), 'alice@example.org');
    assert.equal(headerSafe('Zoë 100%'), 'Zo%C3%AB%20100%25');
    assert.equal(headerSafe('Research, Data', ','), 'Research%2C%20Data');
    assert.equal(headerSafe('a\r\nb'), 'a%0D%0Ab');
  });
});
