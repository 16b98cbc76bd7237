import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../../app/http-app.ts';
import { createRegistry } from '../../../app/registry.ts';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { createLogger } from '../../../core/logging/logger.ts';
import { setPersonStatus } from '../../../core/people/person.service.ts';
import { openDatabase, type Database } from '../../../db/database.ts';
import { migrateToLatest, migrationSets } from '../../../db/migrator.ts';
import { createDatabase, startPostgres, type PostgresInstance } from '../../../../test/support/postgres.ts';
import { buildCo, buildPerson, TestClock, testConfig } from '../../../../test/support/test-app.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import type { ServiceTokenTables } from '../service-token.table.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { generateServiceToken } from '../tokens/service-token.service.ts';
import { revokeServiceToken } from '../tokens/token-revocation.service.ts';
import { createVerifierKey, revokeVerifierKey } from './verification-keys.service.ts';

/**
 * Two Tessera processes on one PostgreSQL database (two apps, each with its own database pool,
 * verifier, cache, failure limits and memory of verified tokens, as two `tessera serve` processes
 * or hosts have): a change made through one is seen by the other at its next call, without
 * waiting, and failures counted by one count for the other.
 */
describe('verification across processes on PostgreSQL', () => {
  let pg: PostgresInstance;
  const opened: Array<{ close(): Promise<void> }> = [];
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    for (const o of opened) await o.close();
    await pg.stop();
  });

  /** Two app instances ("processes") on a fresh database, with the given failure limits. */
  async function twoProcesses(limits: { failuresPerIdentifier: number; failuresPerAddress: number }) {
    const url = await createDatabase(pg.url);
    const one = async () => {
      const plugins = [serviceTokensPlugin(limits)];
      const database: Database = openDatabase(url);
      await migrateToLatest(database.db, migrationSets(plugins));
      const registry = createRegistry({
        config: testConfig({ plugins: plugins.map((p) => p.id) }),
        database,
        plugins,
        clock: new TestClock(),
        logger: createLogger({ level: 'warn', stream: { write: () => {} } }),
      });
      const built = await buildApp(registry);
      await built.app.ready();
      const instance = { ...built, db: database.db.withTables<ServiceTokenTables>(), close: async () => { await built.app.close(); await database.destroy(); } };
      opened.push(instance);
      return instance;
    };
    const a = await one();
    const b = await one();
    const co = await buildCo(a);
    const service = await buildService(a, co.id);
    await enableTokens(a, co.id, service.id);
    const { key, verifier } = await createVerifierKey(tokenContext(a), SYSTEM_ACTOR, co.id, service.id, 'mail server');
    const person = async () => {
      const p = await buildPerson(a, co.id);
      const { secret, token } = await generateServiceToken(tokenContext(a), SYSTEM_ACTOR, co.id, p.id, { serviceId: service.id, label: 'laptop' });
      return { id: p.id, username: p.username, secret, tokenId: token.id };
    };
    return { a, b, co, service, key, verifierId: verifier.id, person };
  }

  type App = Awaited<ReturnType<typeof twoProcesses>>['a'];
  async function verify(app: App, key: string, identifier: string, token: string, clientAddress = '192.0.2.1') {
    const res = await app.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier, token, clientAddress } });
    return { status: res.statusCode, valid: res.statusCode === 200 ? (res.json() as { valid: boolean }).valid : undefined };
  }

  it('refuses at once on B what was revoked, suspended or disabled through A (B had verified and cached it)', async () => {
    const s = await twoProcesses({ failuresPerIdentifier: 1000, failuresPerAddress: 1000 });
    const [alice, bob, carol, dave] = [await s.person(), await s.person(), await s.person(), await s.person()];
    for (const p of [alice, bob, carol, dave]) assert.deepEqual(await verify(s.b, s.key, p.username, p.secret), { status: 200, valid: true }, 'B verified it (and remembers it)');

    await revokeServiceToken(tokenContext(s.a), SYSTEM_ACTOR, s.co.id, alice.id, alice.tokenId);
    assert.deepEqual(await verify(s.b, s.key, alice.username, alice.secret), { status: 200, valid: false }, 'a token revoked on A');
    assert.deepEqual(await verify(s.b, s.key, bob.username, bob.secret), { status: 200, valid: true });

    await setPersonStatus(s.a.ctx, SYSTEM_ACTOR, s.co.id, bob.id, 'suspended');
    assert.deepEqual(await verify(s.b, s.key, bob.username, bob.secret), { status: 200, valid: false }, 'a person suspended on A');

    // The token setting (cached by B): tokens turned off for the service on A.
    await enableTokens(s.a, s.co.id, s.service.id, { enabled: false });
    assert.deepEqual(await verify(s.b, s.key, carol.username, carol.secret), { status: 200, valid: false }, 'tokens disabled on A');
    await enableTokens(s.a, s.co.id, s.service.id, { enabled: true });
    assert.deepEqual(await verify(s.b, s.key, carol.username, carol.secret), { status: 200, valid: true }, 'and enabled again');

    // The service (cached by B), changed by plain SQL on A's connection: the trigger sees any writer.
    await s.a.db.updateTable('co_service').set({ status: 'suspended' }).where('id', '=', s.service.id).execute();
    assert.deepEqual(await verify(s.b, s.key, carol.username, carol.secret), { status: 200, valid: false }, 'the service suspended on A');
    await s.a.db.updateTable('co_service').set({ status: 'active' }).where('id', '=', s.service.id).execute();
    assert.deepEqual(await verify(s.b, s.key, carol.username, carol.secret), { status: 200, valid: true });

    // The verification key (cached by B) revoked on A: B answers 401 at once.
    await revokeVerifierKey(tokenContext(s.a), SYSTEM_ACTOR, s.co.id, s.service.id, s.verifierId);
    assert.equal((await verify(s.b, s.key, dave.username, dave.secret)).status, 401, 'the key revoked on A');
    assert.equal((await verify(s.a, s.key, dave.username, dave.secret)).status, 401);
  });

  it('shares failure limits: two processes allow no more failures than one', async () => {
    const s = await twoProcesses({ failuresPerIdentifier: 1000, failuresPerAddress: 4 });
    const alice = await s.person();
    const attacker = '203.0.113.9';
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push((await verify(i % 2 === 0 ? s.a : s.b, s.key, alice.username, `tst_wrong${i}`, attacker)).status);
    assert.deepEqual(answers, [200, 200, 200, 200, 429, 429, 429, 429], 'four failures in all, however they are spread');
    assert.deepEqual(await verify(s.b, s.key, alice.username, alice.secret, '198.51.100.2'), { status: 200, valid: true }, 'other addresses are not limited');
  });

  it('shares the per-identifier limit of guessable types, also for guesses sent to both at once', async () => {
    const s = await twoProcesses({ failuresPerIdentifier: 3, failuresPerAddress: 1000 });
    await enableTokens(s.a, s.co.id, s.service.id, { tokenType: 'short-grouped', storageScheme: 'ARGON2ID' });
    const alice = await s.person();
    const guesses = await Promise.all(Array.from({ length: 10 }, (_, i) => verify(i % 2 === 0 ? s.a : s.b, s.key, alice.username, `wrong-${i}`, `100.64.1.${i}`)));
    assert.equal(guesses.filter((g) => g.status === 200).length, 3, 'three guesses checked in all');
    assert.equal(guesses.filter((g) => g.status === 429).length, 7);
    assert.equal((await verify(s.b, s.key, alice.username, alice.secret)).status, 429, 'the identifier is locked on B too');
  });
});
