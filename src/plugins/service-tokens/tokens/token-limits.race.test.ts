import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { buildCo, buildPerson, forEachDialect, useTestApp } from '../../../../test/support/test-app.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { generateServiceToken } from './service-token.service.ts';

/**
 * maxTokensPerPerson and replaceTokenId under concurrent generations: on PostgreSQL each
 * generation locks the person before it counts (src/db/transaction.ts), so racing requests never
 * make more live tokens than the maximum, nor replace one token twice.
 */
forEachDialect('Token limits under racing generations', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin()] });

  async function liveTokens(personId: string): Promise<Array<{ id: string }>> {
    const rows = await t.db.selectFrom('service_token').select(['id', 'revoked_at']).where('person_id', '=', personId).execute();
    return rows.filter((r) => r.revoked_at === null).map((r) => ({ id: r.id }));
  }

  it('never passes maxTokensPerPerson, whatever the number of generations at once', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { maxTokensPerPerson: 3 });
    const person = await buildPerson(t, co.id);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: `race ${i}` })),
    );
    const made = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
    assert.equal(made, 3, `three generations succeed (refusals: ${refused.join(', ')})`);
    assert.deepEqual([...new Set(refused)], ['TOKEN_LIMIT_REACHED']);
    assert.equal((await liveTokens(person.id)).length, 3);
  });

  it('replaces one token once when several generations name it at once', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { maxTokensPerPerson: 1 });
    const person = await buildPerson(t, co.id);
    const { token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'old' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: `new ${i}`, replaceTokenId: token.id })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one replacement succeeds');
    const live = await liveTokens(person.id);
    assert.equal(live.length, 1);
    assert.notEqual(live[0]!.id, token.id, 'the old token is revoked');
  });
});
