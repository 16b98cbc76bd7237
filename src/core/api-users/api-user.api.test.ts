import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { apiAs } from '../../../test/support/api-client.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn } from '../../../test/support/test-app.ts';
import type { Co } from '../cos/co.service.ts';
import { ensurePlatformCo } from '../cos/co.service.ts';
import { createApiUser, setApiUserStatus } from './api-user.service.ts';

forEachDialect('API authentication', (dialect) => {
  const t = useTestApp(dialect);
  let co: Co;
  before(async () => {
    co = await buildCo(t);
  });

  let n = 0;
  const apiUser = async (opts: { privileged?: boolean; validFrom?: string; validThrough?: string; allowedAddresses?: string; coId?: string } = {}) => {
    const { apiUser: user, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, opts.coId ?? co.id, {
      username: `auth-test-${++n}`,
      privileged: opts.privileged ?? false,
      validFrom: opts.validFrom ?? null,
      validThrough: opts.validThrough ?? null,
      allowedAddresses: opts.allowedAddresses ?? '',
    });
    return { user, key, authorization: `Basic ${Buffer.from(`${user.username}:${key}`).toString('base64')}` };
  };
  const url = () => `/api/v1/cos/${co.id}/people`;

  const assert401 = (res: { status: number; body: any; headers: Record<string, unknown> }, what: string) => {
    assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, 'AUTHENTICATION_REQUIRED', what);
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="Tessera API"/, what);
  };

  describe('credentials', () => {
    it('accepts a valid API user', async () => {
      const { authorization } = await apiUser();
      assert.equal((await apiAs(t, authorization)('GET', url())).status, 200);
    });

    it('answers 401 with a Basic challenge without credentials, with a wrong key, an unknown user or a malformed header', async () => {
      const { user, key } = await apiUser();
      const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
      const headers: Array<[string | undefined, string]> = [
        [undefined, 'no header'],
        [basic(`${user.username}:${key}x`), 'wrong key'],
        [basic(`${user.username}:`), 'empty key'],
        [basic(`nobody-here:${key}`), 'unknown user'],
        [basic(`${user.username}`), 'no colon'],
        ['Basic !!!not-base64!!!', 'garbage'],
        ['Basic ', 'empty'],
        [`Bearer ${key}`, 'bearer scheme'],
        [`basic ${Buffer.from(`${user.username}:${key}`).toString('base64')}`.replace('basic', 'Digest'), 'other scheme'],
      ];
      for (const [authorization, what] of headers) assert401(await apiAs(t, authorization)('GET', url()), what);
    });

    it('does not take a signed-in person’s session cookie as API credentials', async () => {
      const admin = await buildPerson(t, co.id, { admin: true });
      const browser = await signIn(t, admin.username);
      assert401(await apiAs(t)('GET', url(), undefined, { headers: browser.headers }), 'session cookie');
    });
  });

  describe('status and validity', () => {
    it('refuses a suspended API user, and accepts it again once reinstated', async () => {
      const { user, authorization } = await apiUser();
      await setApiUserStatus(t.ctx, SYSTEM_ACTOR, co.id, user.id, 'suspended');
      assert401(await apiAs(t, authorization)('GET', url()), 'suspended');
      await setApiUserStatus(t.ctx, SYSTEM_ACTOR, co.id, user.id, 'active');
      assert.equal((await apiAs(t, authorization)('GET', url())).status, 200);
    });

    it('refuses an API user outside its validity window (expired, or not yet valid)', async () => {
      const now = t.clock.now().getTime();
      const iso = (ms: number) => new Date(now + ms).toISOString();
      const expired = await apiUser({ validThrough: iso(-1000) });
      assert401(await apiAs(t, expired.authorization)('GET', url()), 'expired');
      const future = await apiUser({ validFrom: iso(3600_000) });
      assert401(await apiAs(t, future.authorization)('GET', url()), 'not yet valid');

      const expiring = await apiUser({ validThrough: iso(60_000) });
      assert.equal((await apiAs(t, expiring.authorization)('GET', url())).status, 200);
      t.clock.advance(60_000);
      try {
        assert401(await apiAs(t, expiring.authorization)('GET', url()), 'expired as time passed');
        assert.equal((await apiAs(t, future.authorization)('GET', url())).status, 401);
      } finally {
        t.clock.advance(-60_000);
      }
    });

    it('honours allowed client addresses and ranges (IPv4 and IPv6)', async () => {
      const call = async (allowedAddresses: string, remoteAddress: string) =>
        (await apiAs(t, (await apiUser({ allowedAddresses })).authorization)('GET', url(), undefined, { remoteAddress })).status;
      assert.equal(await call('127.0.0.1', '127.0.0.1'), 200);
      assert.equal(await call('10.0.0.0/8', '10.20.30.40'), 200);
      assert.equal(await call('192.0.2.1, 10.0.0.0/8', '10.1.1.1'), 200);
      assert.equal(await call('10.0.0.0/8', '127.0.0.1'), 401);
      assert.equal(await call('192.0.2.1', '192.0.2.2'), 401);
      assert.equal(await call('2001:db8::/32', '2001:db8::1'), 200);
      assert.equal(await call('2001:db8::/32', '2001:db9::1'), 401);
      assert.equal(await call('127.0.0.1', '::ffff:127.0.0.1'), 200);
    });
  });

  describe('/api/v1/me', () => {
    it('tells an API user who it is, without its key or hash', async () => {
      const { user, key, authorization } = await apiUser({ privileged: true, allowedAddresses: '127.0.0.1' });
      const res = await apiAs(t, authorization)('GET', '/api/v1/me');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ...user, platform: false });
      assert.ok(!JSON.stringify(res.body).includes(key));
      assert.ok(!('keyHash' in res.body) && !('key_hash' in res.body));

      const platformCo = await ensurePlatformCo(t.ctx);
      const platform = await apiUser({ coId: platformCo.id });
      const me = await apiAs(t, platform.authorization)('GET', '/api/v1/me');
      assert.equal(me.body.platform, true);
      assert.equal(me.body.coId, platformCo.id);
      assert401(await apiAs(t)('GET', '/api/v1/me'), 'anonymous');
    });
  });
});
