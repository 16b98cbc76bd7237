// End to end: a person generates a service token over HTTP, the provisioning worker writes it into
// a real slapd through the LDAP and LDAP service token provisioners, and `ldapwhoami` binds with
// it. Then revocation, suspension, expiry, per-service attributes, renames, deletion, other
// targets' values, and an outage of the directory. Runs on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addIdentifier, createPerson, deletePerson, removeIdentifier, setPersonStatus } from '../../src/core/people/person.service.ts';
import { personProvisioningStates, requestReprovision } from '../../src/core/provisioning/provisioning.service.ts';
import { setServiceStatus } from '../../src/core/co-services/co-service.service.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { newId } from '../../src/db/ids.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { monitorConfig, operationsDuring } from '../../src/plugins/ldap-provisioner/ldap-provisioner.test-support.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { verifySecret } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { sweepExpiredTokens } from '../../src/plugins/service-tokens/tokens/token-expiry.service.ts';
import type { ServiceTokenTables } from '../../src/plugins/service-tokens/service-token.table.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { startSlapd, type SlapdInstance, ldapwhoamiBinds } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildApiUser, buildCo, buildPerson, createTestApp, forEachDialect, form, signIn, type Browser, type BuiltPerson, type TestApp } from '../support/test-app.ts';
import { addLdapServer } from '../support/ldap-servers.ts';

const LDAPWHOAMI = '/usr/bin/ldapwhoami';
const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;
const DAY_MS = 86_400_000;

forEachDialect('LDAP token provisioning end to end', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;
  let root: Client;

  before(async () => {
    requireCommand(LDAPWHOAMI, 'ldap-utils');
    slapd = await startSlapd({ extraConfig: monitorConfig(`cn=admin,${SUFFIX}`) });
    root = new Client({ url: slapd.url, timeout: 5_000 });
    await root.bind(slapd.rootDn, slapd.rootPassword);
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  });
  after(async () => {
    await t?.close();
    await root?.unbind().catch(() => undefined);
    await slapd?.stop();
  });

  /** Does slapd accept this password for this DN? (Exit 49: invalid credentials.) */
  const binds = (dn: string, password: string) => ldapwhoamiBinds(slapd.url, dn, password);

  async function entry(dn: string, attributes = ['*']): Promise<Record<string, string[]> | undefined> {
    try {
      const { searchEntries } = await root.search(dn, { scope: 'base', attributes });
      const out: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(searchEntries[0] ?? {})) {
        const values = (Array.isArray(v) ? v : [v]).map(String).sort();
        // ldapts lists a requested attribute the entry lacks with no values: absent is absent.
        if (k !== 'dn' && values.length > 0) out[k] = values;
      }
      return out;
    } catch (error) {
      if ((error as Error).name === 'NoSuchObjectError') return undefined;
      throw error;
    }
  }

  interface Setup {
    coId: string;
    serviceId: string;
    shortLabel: string;
    ldapTargetId: string;
    tokenTargetId: string;
    /** Authorization header of a privileged API user of the CO. */
    api: string;
  }

  /**
   * A CO with a token-enabled service, an LDAP target and a token target writing userPassword (or
   * voPerson), both made through the REST API as a privileged API user of the CO.
   */
  async function setup(opts: { attribute?: 'userPassword' | 'voPersonApplicationPassword'; maxTokens?: number } = {}): Promise<Setup> {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { maxTokensPerPerson: opts.maxTokens ?? 3 });
    const api = await buildApiUser(t, co.id, true);
    const create = async (body: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${co.id}/provisioning-targets`, headers: { authorization: api.authorization }, payload: body });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; config: Record<string, unknown> };
    };
    const ldap = await create({
      provisionerType: 'ldap',
      description: 'Directory',
      ordinal: 10,
      retryIntervalSeconds: 30,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE, eduPerson: true, eduMember: true, voPerson: true },
    });
    // The target holds no credential and no address: they are the LDAP server's, which only platform admins see.
    assert.deepEqual([ldap.config.url, ldap.config.bindDn, ldap.config.bindPassword], [undefined, undefined, undefined]);
    const tokens = await create({
      provisionerType: 'ldap-service-token',
      description: `Tokens of ${service.name}`,
      ordinal: 20,
      retryIntervalSeconds: 30,
      config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: opts.attribute ?? 'userPassword' },
    });
    return { coId: co.id, serviceId: service.id, shortLabel: service.shortLabel, ldapTargetId: ldap.id, tokenTargetId: tokens.id, api: api.authorization };
  }

  async function person(s: Setup): Promise<BuiltPerson & { dn: string; browser: Browser }> {
    const p = await buildPerson(t, s.coId, { given: 'Robin', family: 'Tester', email: `robin-${newId().slice(0, 6)}@example.org` });
    return { ...p, dn: buildDn('uid', p.username, PEOPLE), browser: await signIn(t, p.username) };
  }

  /** Generates a token over HTTP as the signed-in person, as the web UI does; returns the secret. */
  async function generate(s: Setup, p: { id: string; browser: Browser }, label: string, extra: Record<string, string> = {}): Promise<string> {
    const url = `/cos/${s.coId}/people/${p.id}/service-tokens`;
    const page = await t.app.inject({ method: 'GET', url, headers: p.browser.headers });
    assert.equal(page.statusCode, 200);
    const nonce = /name="nonce" value="([^"]+)"/.exec(page.body)![1]!;
    const body = form({ _csrf: p.browser.csrf, serviceId: s.serviceId, label, lifetimeDays: '', nonce, ...extra });
    const res = await t.app.inject({ method: 'POST', url: `${url}/generate`, headers: { ...p.browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 200, res.body.slice(0, 500));
    const m = /<p class="secret" id="token-secret">([^<]+)<\/p>/.exec(res.body);
    assert.ok(m, 'the page shows the token once');
    return m[1]!;
  }

  async function revoke(s: Setup, p: { id: string; browser: Browser }, secret: string): Promise<void> {
    const rows = await t.ctx.db.withTables<ServiceTokenTables>().selectFrom('service_token').select(['id', 'hash']).where('person_id', '=', p.id).execute();
    let tokenId: string | undefined;
    for (const r of rows) if (await verifySecret(secret, r.hash)) tokenId = r.id;
    assert.ok(tokenId);
    const body = form({ _csrf: p.browser.csrf });
    const res = await t.app.inject({ method: 'POST', url: `/cos/${s.coId}/people/${p.id}/service-tokens/${tokenId}/revoke`, headers: { ...p.browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(res.statusCode, 303);
  }

  async function openJobs(personId: string): Promise<Array<{ state: string; attempts: number; run_after: string; last_error: string | null; target_id: string }>> {
    return t.ctx.db.selectFrom('provisioning_job').select(['state', 'attempts', 'run_after', 'last_error', 'target_id']).where('person_id', '=', personId).where('state', 'in', ['pending', 'running', 'failed']).execute();
  }

  it('binds with a token generated over HTTP; a second works too; revoking one stops only it', async () => {
    const s = await setup();
    const p = await person(s);
    await t.worker.drain();
    assert.ok(await entry(p.dn), 'the LDAP target made the entry');
    assert.equal(await binds(p.dn, 'no token yet'), false);

    const first = await generate(s, p, 'laptop');
    await t.worker.drain();
    assert.equal(await binds(p.dn, first), true);
    assert.equal(await binds(p.dn, `${first}x`), false);

    const second = await generate(s, p, 'phone');
    await t.worker.drain();
    assert.equal(await binds(p.dn, first), true);
    assert.equal(await binds(p.dn, second), true);

    await revoke(s, p, first);
    await t.worker.drain();
    assert.equal(await binds(p.dn, first), false);
    assert.equal(await binds(p.dn, second), true);
    assert.equal((await entry(p.dn, ['userPassword']))!.userPassword!.length, 1);

    const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, p.id);
    assert.deepEqual(states.map((x) => [x.status, x.targetKey, x.lastError]), [
      ['provisioned', p.dn, null],
      ['provisioned', p.dn, null],
    ]);
    assert.deepEqual(await openJobs(p.id), []);
  });

  it('refuses over the API a token target ordered before its LDAP target, naming the field', async () => {
    const s = await setup();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/cos/${s.coId}/provisioning-targets`,
      headers: { authorization: s.api },
      payload: { provisionerType: 'ldap-service-token', description: 'Too early', ordinal: 5, config: { ldapTargetId: s.ldapTargetId, serviceId: s.serviceId } },
    });
    assert.equal(res.statusCode, 422);
    const { error } = res.json() as { error: { code: string; field: string; message: string } };
    assert.equal(error.code, 'ORDERED_BEFORE_LDAP_TARGET');
    assert.equal(error.field, 'ordinal');
    assert.match(error.message, /must run after its LDAP target "Directory" \(order 10\)/);
  });

  it('reprovisioning changes nothing: one shared bind, one read per person, no write', async () => {
    const s = await setup();
    const people = await Promise.all(Array.from({ length: 12 }, () => person(s)));
    const created = await operationsDuring(slapd, () => t.worker.drain());
    assert.deepEqual(created, { bind: 1, search: 12, add: 12, modify: 0, modrdn: 0, delete: 0 }, 'first provisioning: one add per person, and one search reading its entryUUID back');
    const secret = await generate(s, people[0]!, 'laptop');
    const tokenOps = await operationsDuring(slapd, () => t.worker.drain());
    assert.deepEqual(tokenOps, { bind: 1, search: 1, add: 0, modify: 1, modrdn: 0, delete: 0 }, 'a new token: the entry is read (no change) and one modify adds the token');
    const csn = (await entry(people[0]!.dn, ['entryCSN', 'modifyTimestamp']))!;

    await requestReprovision(t.ctx, SYSTEM_ACTOR, s.coId);
    const again = await operationsDuring(slapd, () => t.worker.drain());
    assert.deepEqual(again, { bind: 1, search: 12, add: 0, modify: 0, modrdn: 0, delete: 0 });
    assert.deepEqual(await entry(people[0]!.dn, ['entryCSN', 'modifyTimestamp']), csn, 'the entry was not written');
    assert.equal(await binds(people[0]!.dn, secret), true);

    // Into an emptied directory: each entry comes back with one add, tokens included (a read finds it gone, one reads its entryUUID back).
    for (const p of people) await root.del(p.dn);
    await requestReprovision(t.ctx, SYSTEM_ACTOR, s.coId);
    const refill = await operationsDuring(slapd, () => t.worker.drain());
    assert.deepEqual(refill, { bind: 1, search: 24, add: 12, modify: 0, modrdn: 0, delete: 0 });
    assert.equal(await binds(people[0]!.dn, secret), true);
    // And the token target owns what its contributor put into the add: revoking withdraws it.
    await revoke(s, people[0]!, secret);
    await t.worker.drain();
    assert.equal(await binds(people[0]!.dn, secret), false);
  });

  it('stops both tokens of a suspended person, keeping the entry without isMemberOf; reactivation brings back the unrevoked one', async () => {
    const s = await setup();
    const p = await person(s);
    const revoked = await generate(s, p, 'old');
    const kept = await generate(s, p, 'new');
    await revoke(s, p, revoked);
    await t.worker.drain();
    assert.equal(await binds(p.dn, kept), true);
    assert.deepEqual((await entry(p.dn))!.isMemberOf, ['CO:members:active']);

    await setPersonStatus(t.ctx, SYSTEM_ACTOR, s.coId, p.id, 'suspended');
    await t.worker.drain();
    assert.equal(await binds(p.dn, kept), false);
    assert.equal(await binds(p.dn, revoked), false);
    const suspended = (await entry(p.dn, ['*']))!;
    assert.ok(suspended, 'the entry is kept');
    assert.equal(suspended.isMemberOf, undefined);
    assert.equal(suspended.userPassword, undefined);
    assert.deepEqual(suspended.voPersonStatus, ['suspended']);

    await setPersonStatus(t.ctx, SYSTEM_ACTOR, s.coId, p.id, 'active');
    await t.worker.drain();
    assert.equal(await binds(p.dn, kept), true);
    assert.equal(await binds(p.dn, revoked), false);
    assert.deepEqual((await entry(p.dn))!.isMemberOf, ['CO:members:active']);
  });

  it('withdraws an expired token once the expiry sweep has run', async () => {
    const s = await setup();
    const p = await person(s);
    const shortLived = await generate(s, p, 'one day', { lifetimeDays: '1' });
    const lasting = await generate(s, p, 'lasting');
    await t.worker.drain();
    assert.equal(await binds(p.dn, shortLived), true);
    t.clock.advance(DAY_MS + 60_000);
    assert.ok((await sweepExpiredTokens(tokenContext(t))) >= 1);
    await t.worker.drain();
    assert.equal(await binds(p.dn, shortLived), false);
    assert.equal(await binds(p.dn, lasting), true);
  });

  it('withdraws the tokens of a service whose tokens are turned off or which is suspended, and brings them back', async () => {
    const s = await setup();
    const p = await person(s);
    const secret = await generate(s, p, 'laptop');
    await t.worker.drain();
    assert.equal(await binds(p.dn, secret), true);

    await enableTokens(t, s.coId, s.serviceId, { enabled: false });
    await t.worker.drain();
    assert.equal(await binds(p.dn, secret), false);
    await enableTokens(t, s.coId, s.serviceId, { enabled: true });
    await t.worker.drain();
    assert.equal(await binds(p.dn, secret), true);

    await setServiceStatus(t.ctx, SYSTEM_ACTOR, s.coId, s.serviceId, 'suspended');
    await t.worker.drain();
    assert.equal(await binds(p.dn, secret), false);
    await setServiceStatus(t.ctx, SYSTEM_ACTOR, s.coId, s.serviceId, 'active');
    await t.worker.drain();
    assert.equal(await binds(p.dn, secret), true);
  });

  it('writes voPersonApplicationPassword;app-<short label> when so configured', async () => {
    const s = await setup({ attribute: 'voPersonApplicationPassword' });
    const p = await person(s);
    const secret = await generate(s, p, 'mail client');
    await t.worker.drain();
    const attribute = `voPersonApplicationPassword;app-${s.shortLabel}`;
    const values = (await entry(p.dn, [attribute, 'userPassword']))!;
    assert.equal(values.userPassword, undefined);
    assert.equal(values[attribute]?.length, 1);
    assert.equal(await verifySecret(secret, values[attribute]![0]!), true, 'the value is the hash of this token');
    await revoke(s, p, secret);
    await t.worker.drain();
    assert.equal((await entry(p.dn, [attribute]))![attribute], undefined);
  });

  it('renames the entry when the DN identifier changes; the token works at the new DN', async () => {
    const s = await setup();
    const p = await person(s);
    const secret = await generate(s, p, 'laptop');
    await t.worker.drain();
    const renamed = `renamed, ${newId().slice(0, 6)} +Ω`;
    await addIdentifier(t.ctx, SYSTEM_ACTOR, s.coId, p.id, { identifier: renamed, type: 'uid', login: true });
    const old = (await t.ctx.db.selectFrom('identifier').select('id').where('person_id', '=', p.id).where('identifier', '=', p.username).executeTakeFirstOrThrow()).id;
    await removeIdentifier(t.ctx, SYSTEM_ACTOR, s.coId, p.id, old);
    const ops = await operationsDuring(slapd, () => t.worker.drain());
    assert.equal(ops.modrdn, 1);
    const newDn = buildDn('uid', renamed, PEOPLE);
    assert.equal(await entry(p.dn), undefined, 'nothing left at the old DN');
    assert.deepEqual((await entry(newDn))!.uid, [renamed]);
    assert.equal(await binds(newDn, secret), true);
    const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, p.id);
    assert.deepEqual(states.map((x) => x.targetKey), [newDn, newDn]);
  });

  it('shows why a person without the naming identifier is not provisioned, and provisions them once they have one', async () => {
    const s = await setup();
    const p = await createPerson(t.ctx, SYSTEM_ACTOR, s.coId, { status: 'active', name: { given: 'Nomen', family: 'Nescio' }, identifiers: [{ identifier: `nn-${newId().slice(0, 6)}@uni.example`, type: 'eppn', login: false }], emails: [] });
    await t.worker.drain();
    const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, p.id);
    assert.equal(states[0]!.status, 'failed');
    assert.match(states[0]!.lastError ?? '', /Nomen Nescio has no active identifier of type "uid", which names the LDAP entry/);
    const uid = `nn-${newId().slice(0, 6)}`;
    await addIdentifier(t.ctx, SYSTEM_ACTOR, s.coId, p.id, { identifier: uid, type: 'uid', login: true });
    await t.worker.drain();
    assert.ok(await entry(buildDn('uid', uid, PEOPLE)));
    assert.deepEqual((await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, p.id)).map((x) => x.status), ['provisioned', 'provisioned']);
  });

  it('removes the entry of a deleted person', async () => {
    const s = await setup();
    const p = await person(s);
    await generate(s, p, 'laptop');
    await t.worker.drain();
    assert.ok(await entry(p.dn));
    await deletePerson(t.ctx, SYSTEM_ACTOR, s.coId, p.id);
    await t.worker.drain();
    assert.equal(await entry(p.dn), undefined);
    assert.deepEqual(await openJobs(p.id), []);
  });

  it('leaves the userPassword values of another service’s target (and of anyone else) alone', async () => {
    const s = await setup();
    const git = await buildService(t, s.coId);
    await enableTokens(t, s.coId, git.id);
    await createTarget(t.ctx, SYSTEM_ACTOR, s.coId, {
      provisionerType: 'ldap-service-token',
      description: 'Git tokens',
      mode: 'automatic',
      ordinal: 30,
      retryIntervalSeconds: 30,
      maxRetries: 10,
      provisionGroupId: null,
      config: { ldapTargetId: s.ldapTargetId, serviceId: git.id },
    });
    const p = await person(s);
    const wiki = await generate(s, p, 'wiki laptop');
    const gitToken = await generate({ ...s, serviceId: git.id }, p, 'git laptop');
    await t.worker.drain();
    await root.modify(p.dn, new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: ['{SSHA512}set-by-someone-else'] }) }));
    assert.equal(await binds(p.dn, wiki), true);
    assert.equal(await binds(p.dn, gitToken), true);

    await revoke(s, p, wiki);
    await t.worker.drain();
    assert.equal(await binds(p.dn, wiki), false);
    assert.equal(await binds(p.dn, gitToken), true);
    const values = (await entry(p.dn, ['userPassword']))!.userPassword!;
    assert.equal(values.length, 2);
    assert.ok(values.includes('{SSHA512}set-by-someone-else'));
  });

  it('survives an outage: jobs fail visibly and back off, and once slapd is back every token works and no job is lost', async () => {
    const s = await setup();
    const early = await person(s);
    await t.worker.drain();
    assert.ok(await entry(early.dn));
    let tokens: string[] = [];
    let late: Awaited<ReturnType<typeof person>> | undefined;

    await slapd.restart(async () => {
      tokens = [await generate(s, early, 'laptop'), await generate(s, early, 'phone')];
      late = await person(s); // made while the directory is down: its entry does not exist yet
      const lateToken = await generate(s, late, 'laptop');
      tokens.push(lateToken);
      await t.worker.drain();

      for (const who of [early, late]) {
        const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, who.id);
        assert.equal(states[0]!.status, 'failed');
        assert.match(states[0]!.lastError ?? '', /cannot connect to LDAP server ldap:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED/);
        assert.equal(states[1]!.status, 'pending', 'the token target waits for its LDAP target');
        const jobs = await openJobs(who.id);
        const ldapJob = jobs.find((j) => j.target_id === s.ldapTargetId)!;
        assert.equal(ldapJob.state, 'pending');
        assert.equal(ldapJob.attempts, 1);
        assert.equal(ldapJob.run_after, new Date(t.clock.now().getTime() + 30_000).toISOString(), 'retried after the retry interval');
      }
      const failures = await t.ctx.db.selectFrom('history_record').select('comment').where('person_id', '=', early.id).where('action', '=', 'PROVISIONING_FAILED').execute();
      assert.equal(failures.length, 1);
      assert.match(failures[0]!.comment, /Provisioning to target "Directory" failed \(attempt 1\).*retrying at/);

      // Not due yet: nothing runs. Due: it fails again and backs off twice as long.
      assert.equal(await t.worker.drain(), 0);
      t.clock.advance(30_000);
      await t.worker.drain();
      const second = (await openJobs(early.id)).find((j) => j.target_id === s.ldapTargetId)!;
      assert.equal(second.attempts, 2);
      assert.equal(second.run_after, new Date(t.clock.now().getTime() + 60_000).toISOString());
    });

    t.clock.advance(60_000);
    await t.worker.drain();
    for (const secret of tokens.slice(0, 2)) assert.equal(await binds(early.dn, secret), true);
    assert.equal(await binds(late!.dn, tokens[2]!), true);
    for (const who of [early, late!]) {
      assert.deepEqual(await openJobs(who.id), [], 'no job pending or failed');
      const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, who.id);
      assert.deepEqual(states.map((x) => [x.status, x.lastError]), [
        ['provisioned', null],
        ['provisioned', null],
      ]);
    }
  });
});
