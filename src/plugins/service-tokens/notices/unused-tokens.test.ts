// The unused-token policy with the test clock: last use from both sources (the verification API,
// per token; a use seen elsewhere, e.g. an LDAP bind, per person and service), a notice first,
// the revocation only once the notice is a week old, and a use after the notice starting over.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { buildCo, buildPerson, forEachDialect, useTestApp } from '../../../../test/support/test-app.ts';
import { recordExternalUse } from '../last-use/external-use.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { settingInput } from '../settings/token-setting.schema.ts';
import { generateServiceToken } from '../tokens/service-token.service.ts';
import { recordLastUse } from '../tokens/service-token.repository.ts';
import { sweepUnusedTokens, unusedNoticeDays } from './unused-tokens.ts';

const DAY = 86_400_000;

forEachDialect('unused-token policy', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin()] });

  it('gives a week’s notice, then revokes tokens unused for N days by either source of last use', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { revokeUnusedAfterDays: 30 });
    const [ann, ben, cat] = [await buildPerson(t, co.id), await buildPerson(t, co.id), await buildPerson(t, co.id)];
    const start = t.clock.now().getTime();
    const make = async (personId: string) => (await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, personId, { serviceId: service.id, label: 'client' })).token;
    const [idle, api, ldap] = [await make(ann.id), await make(ben.id), await make(cat.id)];
    const at = (day: number) => new Date(start + day * DAY).toISOString();
    await recordLastUse(t.db, api.id, at(20), '127.0.0.1');
    await recordExternalUse(t.db, [{ coId: co.id, personId: cat.id, serviceId: service.id, source: 'ldap', at: at(25) }], t.clock.now());
    const state = async () => {
      const rows = await t.db.selectFrom('service_token').select(['id', 'revoked_at', 'revoked_reason']).where('service_id', '=', service.id).execute();
      const revoked = (id: string) => rows.find((r) => r.id === id)!.revoked_at !== null;
      return { idle: revoked(idle.id), api: revoked(api.id), ldap: revoked(ldap.id) };
    };
    const sweepAt = async (day: number) => {
      t.clock.set(new Date(start + day * DAY));
      return sweepUnusedTokens(tokenContext(t));
    };
    assert.equal(unusedNoticeDays(30), 7);

    assert.deepEqual(await sweepAt(22.9), { noticed: 0, revoked: 0 });
    assert.deepEqual(await sweepAt(23), { noticed: 1, revoked: 0 }, 'the never-used token: its notice');
    assert.deepEqual(await sweepAt(23.5), { noticed: 0, revoked: 0 }, 'one notice only');
    assert.deepEqual(await sweepAt(29.9), { noticed: 0, revoked: 0 });
    assert.deepEqual(await sweepAt(30), { noticed: 0, revoked: 1 });
    assert.deepEqual(await state(), { idle: true, api: false, ldap: false });
    const reason = await t.db.selectFrom('service_token').select('revoked_reason').where('id', '=', idle.id).executeTakeFirstOrThrow();
    assert.equal(reason.revoked_reason, 'unused for 30 days');

    // The API-used token (last use day 20) gets its notice on day 43; the LDAP-used one (day 25) on day 48.
    assert.deepEqual(await sweepAt(43), { noticed: 1, revoked: 0 });
    assert.deepEqual(await sweepAt(48), { noticed: 1, revoked: 0 });
    assert.deepEqual(await sweepAt(50), { noticed: 0, revoked: 1 });
    assert.deepEqual(await state(), { idle: true, api: true, ldap: false });
    // Cat binds again on day 51, after the notice: the notice is void, nothing is revoked on day 55.
    await recordExternalUse(t.db, [{ coId: co.id, personId: cat.id, serviceId: service.id, source: 'ldap', at: at(51) }], t.clock.now());
    assert.deepEqual(await sweepAt(55), { noticed: 0, revoked: 0 });
    assert.deepEqual(await state(), { idle: true, api: true, ldap: false });
    // Unused again for 23 days: a new notice, and the revocation a week later.
    assert.deepEqual(await sweepAt(74), { noticed: 1, revoked: 0 });
    assert.deepEqual(await sweepAt(81), { noticed: 0, revoked: 1 });
    assert.deepEqual(await state(), { idle: true, api: true, ldap: true });

    const notes = await t.db.selectFrom('notification').select(['person_id', 'kind']).where('co_id', '=', co.id).where('kind', '=', 'service_token_unused').execute();
    assert.deepEqual(notes.map((n) => n.person_id).sort(), [ann.id, ben.id, cat.id, cat.id].sort());
  });

  it('revokes no sooner than the notice period after a late notice (the sweep did not run for a while)', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { revokeUnusedAfterDays: 10 });
    const person = await buildPerson(t, co.id);
    await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'old' });
    t.clock.advance(100 * DAY);
    assert.deepEqual(await sweepUnusedTokens(tokenContext(t)), { noticed: 1, revoked: 0 }, 'long unused, but the person was never told');
    t.clock.advance(unusedNoticeDays(10) * DAY - 1000);
    assert.deepEqual(await sweepUnusedTokens(tokenContext(t)), { noticed: 0, revoked: 0 });
    t.clock.advance(1000);
    assert.deepEqual(await sweepUnusedTokens(tokenContext(t)), { noticed: 0, revoked: 1 });
  });

  it('refuses a period under 2 days, and keeps the setting off by default', async () => {
    assert.equal(settingInput.safeParse({ tokenType: 'x', storageScheme: 'SSHA512', maxLifetimeDays: '', revokeUnusedAfterDays: '1' }).error?.issues[0]?.message, 'At least 2 days');
    assert.equal(settingInput.parse({ tokenType: 'x', storageScheme: 'SSHA512', maxLifetimeDays: '' }).revokeUnusedAfterDays, null);
  });
});
