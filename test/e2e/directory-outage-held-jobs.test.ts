// A directory that goes down holds its jobs: attempts that meet the outage are recorded, but they
// never count against the target's maximum of retries (no job gives up during an outage), and once
// slapd is back on the same port the worker's probe releases every held job within seconds, long
// before its back-off would. A job that fails for its own reason (here: an entry whose parent does
// not exist, with the directory up) still backs off and gives up. Real slapd, SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { addLdapServer } from '../support/ldap-servers.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildCo, buildPerson, createTestApp, forEachDialect, type TestApp } from '../support/test-app.ts';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;
/** A generous bound on the time from slapd's return to every held job done (the probe runs every second). */
const RELEASE_BOUND_MS = 30_000;

forEachDialect('Held jobs during a directory outage', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    slapd = await startSlapd();
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  });
  after(async () => {
    await t?.close();
    await slapd?.stop();
  });

  const jobs = (targetId: string) => t.ctx.db.selectFrom('provisioning_job').selectAll().where('target_id', '=', targetId).orderBy('person_id').execute();

  async function world(baseDn: string, maxRetries: number) {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { maxTokensPerPerson: 3 });
    const serverId = await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [SUFFIX], coIds: [co.id] });
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, { provisionerType: 'ldap', description: 'Directory', mode: 'automatic', ordinal: 10, retryIntervalSeconds: 300, maxRetries, config: { serverId, baseDn } });
    const tokens = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, {
      provisionerType: 'ldap-service-token',
      description: 'Tokens',
      mode: 'automatic',
      ordinal: 20,
      retryIntervalSeconds: 300,
      maxRetries,
      config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' },
    });
    const token = async (personId: string) => (await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, personId, { serviceId: service.id, label: 'laptop' })).secret;
    return { co, ldap, tokens, token };
  }

  it('holds the jobs of a directory that is down without using up retries, and releases them within seconds of its return', async () => {
    const w = await world(PEOPLE, 1);
    const early = await buildPerson(t, w.co.id);
    const earlySecrets = [await w.token(early.id)];
    await t.worker.drain();
    assert.equal(await ldapwhoamiBinds(slapd.url, buildDn('uid', early.username, PEOPLE), earlySecrets[0]!), true);

    let late: Awaited<ReturnType<typeof buildPerson>> | undefined;
    let lateSecret = '';
    await slapd.restart(async () => {
      // Changes while the directory is down: a new token for an existing entry, a new person with a token.
      earlySecrets.push(await w.token(early.id));
      late = await buildPerson(t, w.co.id);
      lateSecret = await w.token(late.id);
      // Three rounds of attempts, each once the back-off is over: more than the one retry allowed.
      for (let round = 1; round <= 3; round++) {
        await t.worker.drain();
        const open = [...(await jobs(w.ldap.id)), ...(await jobs(w.tokens.id))].filter((j) => j.state !== 'succeeded' && j.state !== 'superseded');
        assert.ok(open.length >= 2, 'the new person\'s jobs (and the new token\'s) wait');
        for (const job of open) {
          assert.equal(job.state, 'pending', `round ${round}: a held job never gives up`);
          assert.notEqual(job.held_since, null, `round ${round}: the job is held`);
        }
        const lateJob = (await jobs(w.ldap.id)).find((j) => j.person_id === late!.id)!;
        assert.deepEqual([lateJob.state, lateJob.attempts, lateJob.held_attempts], ['pending', round, round], 'every attempt met the outage and is counted as held');
        assert.match(lateJob.last_error ?? '', /cannot connect to LDAP server .*ECONNREFUSED/);
        // The next round once the back-off is over (the third leaves the jobs due in 20 minutes of the test clock).
        if (round < 3) t.clock.advance(3600_000);
      }
    });

    // slapd is back on the same port; the jobs are not due for another 20 minutes of the test clock,
    // so only the probe can bring them back. The worker loop (polling every second) probes and releases.
    const returned = Date.now();
    const stop = t.worker.start();
    try {
      for (;;) {
        const open = [...(await jobs(w.ldap.id)), ...(await jobs(w.tokens.id))].filter((j) => j.state === 'pending' || j.state === 'running');
        if (open.length === 0) break;
        assert.ok(Date.now() - returned < RELEASE_BOUND_MS, `held jobs still open ${RELEASE_BOUND_MS} ms after slapd returned: ${JSON.stringify(open.map((j) => [j.state, j.run_after, j.held_since]))}`);
        await sleep(100);
      }
    } finally {
      await stop();
    }
    const all = [...(await jobs(w.ldap.id)), ...(await jobs(w.tokens.id))];
    assert.ok(all.every((j) => j.state === 'succeeded' || j.state === 'superseded'), 'every job done, none failed');
    for (const job of all.filter((j) => j.held_attempts > 0 && j.state === 'succeeded')) {
      assert.equal(job.attempts - job.held_attempts, 1, 'the successful attempt is the only one counted: no retry was used up');
      assert.equal(job.held_since, null);
    }
    assert.ok(all.some((j) => j.held_attempts === 3 && j.state === 'succeeded'), 'the job held through three rounds succeeded once released');
    for (const secret of earlySecrets) assert.equal(await ldapwhoamiBinds(slapd.url, buildDn('uid', early.username, PEOPLE), secret), true);
    assert.equal(await ldapwhoamiBinds(slapd.url, buildDn('uid', late!.username, PEOPLE), lateSecret), true);
  });

  it('still backs off, and gives up, on a job that fails for its own reason while the directory is up', async () => {
    // The base DN's parent entry does not exist: the directory answers noSuchObject to the add.
    const w = await world(`ou=nowhere,${SUFFIX}`, 1);
    const person = await buildPerson(t, w.co.id);
    await t.worker.drain();
    let [job] = (await jobs(w.ldap.id)).filter((j) => j.person_id === person.id);
    assert.deepEqual([job!.state, job!.attempts, job!.held_attempts, job!.held_since], ['pending', 1, 0, null], 'a failure, not a hold');
    assert.equal(job!.run_after, new Date(t.clock.now().getTime() + 300_000).toISOString(), 'retried after the retry interval');
    // The directory answers, yet nothing releases this job early: its back-off stands.
    await sleep(1_100);
    assert.equal(await t.worker.drain(), 0);
    t.clock.advance(300_000);
    await t.worker.drain();
    [job] = (await jobs(w.ldap.id)).filter((j) => j.person_id === person.id);
    assert.deepEqual([job!.state, job!.attempts, job!.held_attempts], ['failed', 2, 0], 'one retry allowed, then it gives up');
  });
});
