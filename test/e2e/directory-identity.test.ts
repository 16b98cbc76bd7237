// What reaches a real slapd, tried as the public bug reports did: a person named like another
// (in case, Unicode form, or in another CO sharing the base DN) never takes the other's entry;
// verification answers as the bind does; LDAP errors are named; a person who can no longer be
// named loses their entry and its tokens at once; an adopted entry holds only Tessera's values.
// On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { createPerson, removeIdentifier } from '../../src/core/people/person.service.ts';
import { personProvisioningStates } from '../../src/core/provisioning/provisioning.service.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { newId } from '../../src/db/ids.ts';
import { LdapConnection } from '../../src/plugins/ldap-provisioner/ldap-connection.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { hashSecret, verifySecret } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';
import { startSlapd, type SlapdInstance, ldapwhoamiBinds } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildCo, createTestApp, forEachDialect, type TestApp } from '../support/test-app.ts';
import { addLdapServer, ldapServerContext } from '../support/ldap-servers.ts';
import { setAdoptExistingEntries } from '../../src/plugins/ldap-provisioner/ldap-server.service.ts';

const LDAPWHOAMI = '/usr/bin/ldapwhoami';
const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;

forEachDialect('The directory’s identity of people', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;
  let root: Client;

  before(async () => {
    requireCommand(LDAPWHOAMI, 'ldap-utils');
    slapd = await startSlapd();
    root = new Client({ url: slapd.url, timeout: 5_000 });
    await root.bind(slapd.rootDn, slapd.rootPassword);
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  });
  after(async () => {
    await t?.close();
    await root?.unbind().catch(() => undefined);
    await slapd?.stop();
  });

  const binds = (dn: string, password: string) => ldapwhoamiBinds(slapd.url, dn, password);

  async function entry(dn: string, attributes = ['*']): Promise<Record<string, string[]> | undefined> {
    try {
      const { searchEntries } = await root.search(dn, { scope: 'base', attributes });
      const out: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(searchEntries[0] ?? {})) if (k !== 'dn') out[k] = (Array.isArray(v) ? v : [v]).map(String).sort();
      return out;
    } catch (error) {
      if ((error as Error).name === 'NoSuchObjectError') return undefined;
      throw error;
    }
  }

  /** A CO with a token-enabled service, an LDAP target on the shared slapd and a token target. */
  async function setup(opts: { dnIdentifierType?: string; keepOtherValues?: boolean; adoptExistingEntries?: boolean } = {}) {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id);
    const base = { mode: 'automatic' as const, retryIntervalSeconds: 30, maxRetries: 10, provisionGroupId: null };
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, {
      ...base,
      provisionerType: 'ldap',
      description: 'Directory',
      ordinal: 10,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE, dnIdentifierType: opts.dnIdentifierType ?? 'uid' },
    });
    await createTarget(t.ctx, SYSTEM_ACTOR, co.id, {
      ...base,
      provisionerType: 'ldap-service-token',
      description: 'Tokens',
      ordinal: 20,
      config: { ldapTargetId: ldap.id, serviceId: service.id, keepOtherValues: opts.keepOtherValues ?? false },
    });
    // A platform admin lets the target adopt entries Tessera did not create (a migration).
    if (opts.adoptExistingEntries) await setAdoptExistingEntries(ldapServerContext(t.ctx), SYSTEM_ACTOR, co.id, ldap.id, true);
    return { coId: co.id, serviceId: service.id };
  }

  async function person(coId: string, given: string, identifiers: Array<{ identifier: string; type: string }>, mail?: string) {
    return createPerson(t.ctx, SYSTEM_ACTOR, coId, {
      status: 'active',
      name: { given, family: 'Tester' },
      identifiers: identifiers.map((i) => ({ ...i, login: true })),
      emails: mail ? [{ mail, type: 'official', verified: true }] : [],
    });
  }

  async function token(s: { coId: string; serviceId: string }, personId: string): Promise<string> {
    return (await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, s.coId, personId, { serviceId: s.serviceId, label: 'laptop' })).secret;
  }

  async function ldapState(coId: string, personId: string) {
    return (await personProvisioningStates(t.ctx, SYSTEM_ACTOR, coId, personId))[0]!;
  }

  it('never writes a person onto the entry of a person of another CO named alike in another case', async () => {
    const a = await setup();
    const b = await setup();
    const uid = `adaq${newId().slice(0, 6)}`;
    const ada = await person(a.coId, 'Ada', [{ identifier: uid, type: 'uid' }], `${uid}@a.example`);
    const adaToken = await token(a, ada.id);
    await t.worker.drain();
    const dn = buildDn('uid', uid, PEOPLE);
    assert.equal(await binds(dn, adaToken), true);
    const before = await entry(dn);

    const bo = await person(b.coId, 'Bo', [{ identifier: uid.replace('adaq', 'AdaQ'), type: 'uid' }], `bo@b.example`);
    const boToken = await token(b, bo.id);
    await t.worker.drain();
    const state = await ldapState(b.coId, bo.id);
    assert.equal(state.status, 'failed', 'never "provisioned"');
    assert.match(state.lastError ?? '', /^DN conflict: the entry uid=AdaQ.* is the entry of a person of another CO writing to the same directory \(as uid=adaq/);
    assert.deepEqual(await entry(dn), before, 'Ada’s entry is as it was: her cn and mail, her token');
    assert.equal(await binds(dn, boToken), false, 'Bo’s token does not bind as Ada');
    assert.equal(await binds(dn, adaToken), true);
  });

  it('fails with a DN conflict for two people of one CO named by case-sensitive identifiers that the directory takes for one', async () => {
    const s = await setup({ dnIdentifierType: 'oidcsub' });
    const sub = `sub${newId().slice(0, 6)}`;
    const first = await person(s.coId, 'First', [{ identifier: sub, type: 'oidcsub' }]);
    await t.worker.drain();
    assert.equal((await ldapState(s.coId, first.id)).status, 'provisioned');
    const second = await person(s.coId, 'Second', [{ identifier: sub.toUpperCase(), type: 'oidcsub' }]);
    await t.worker.drain();
    const state = await ldapState(s.coId, second.id);
    assert.equal(state.status, 'failed');
    assert.match(state.lastError ?? '', /^DN conflict: .* is the entry of another person of this CO/);
    assert.deepEqual((await entry(buildDn('uid', sub, PEOPLE)))!.cn, ['First Tester']);
  });

  it('verifies with the identifier in any case or Unicode form exactly when the bind succeeds', async () => {
    const s = await setup();
    const uid = `zo\u00eb${newId().slice(0, 6)}`;
    const zoe = await person(s.coId, 'Zoë', [{ identifier: uid, type: 'uid' }]);
    const secret = await token(s, zoe.id);
    await t.worker.drain();
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, s.coId, s.serviceId, 'wiki');
    for (const spelling of [uid, uid.toUpperCase(), uid.normalize('NFD'), `x${uid}`]) {
      const bound = await binds(buildDn('uid', spelling, PEOPLE), secret);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier: spelling, token: secret } });
      assert.equal(res.json().valid, bound, `${spelling}: verify says what the bind says`);
      assert.equal(bound, !spelling.startsWith('x'), spelling);
    }
  });

  it('names LDAP errors with their meaning, never as an unknown status code', async () => {
    const ldap = new LdapConnection({ url: slapd.url, startTls: false, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword });
    try {
      const long = buildDn('uid', 'a'.repeat(250), PEOPLE);
      const tooLong = await ldap.add(long, { objectClass: ['inetOrgPerson'], cn: ['x'], sn: ['x'], uid: ['a'.repeat(250)] }).then(() => 'added', (e: Error) => e.message);
      assert.match(tooLong, /^LDAP add of uid=a+,ou=people,dc=example,dc=org failed: other \(LDAP result 80\): the directory failed for a reason of its own \(e\.g\. an RDN or a value too long for its index\)$/);
      const noSn = await ldap.add(buildDn('uid', `nosn${newId().slice(0, 4)}`, PEOPLE), { objectClass: ['inetOrgPerson'], cn: ['x'] }).then(() => 'added', (e: Error) => e.message);
      assert.match(noSn, /objectClassViolation \(LDAP result 65\): the entry breaks its object classes .*\(the server says: object class 'inetOrgPerson' requires attribute 'sn'\)/);
      const syntax = await ldap.add(buildDn('uid', `bad${newId().slice(0, 4)}`, PEOPLE), { objectClass: ['inetOrgPerson'], cn: ['x'], sn: ['x'], mail: ['ä@x'] }).then(() => 'added', (e: Error) => e.message);
      assert.match(syntax, /invalidAttributeSyntax \(LDAP result 21\)/);
      for (const message of [tooLong, noSn, syntax]) assert.doesNotMatch(message, /UnknownStatusCodeError|Error \(LDAP/);
    } finally {
      await ldap.close();
    }
  });

  it('removes the entry, and so the tokens, of a person whose naming identifier is removed, and says so', async () => {
    const s = await setup();
    const uid = `ada${newId().slice(0, 6)}`;
    const ada = await person(s.coId, 'Ada', [{ identifier: uid, type: 'uid' }]);
    const secret = await token(s, ada.id);
    await t.worker.drain();
    const dn = buildDn('uid', uid, PEOPLE);
    assert.equal(await binds(dn, secret), true);
    await removeIdentifier(t.ctx, SYSTEM_ACTOR, s.coId, ada.id, ada.identifiers[0]!.id);
    await t.worker.drain();
    assert.equal(await entry(dn), undefined, 'the entry is gone');
    assert.equal(await binds(dn, secret), false, 'the token no longer binds');
    const state = await ldapState(s.coId, ada.id);
    assert.equal(state.status, 'failed');
    assert.match(state.lastError ?? '', new RegExp(`has no active identifier of type "uid".*their entry uid=${uid},ou=people,dc=example,dc=org was removed, with the token values in it, so nothing binds as them`));
  });

  it('leaves in an adopted entry only the token hashes Tessera wrote, unless told to keep the others', async () => {
    for (const keepOtherValues of [false, true]) {
      const s = await setup({ keepOtherValues, adoptExistingEntries: true });
      const uid = `bo${newId().slice(0, 6)}`;
      const dn = buildDn('uid', uid, PEOPLE);
      // Made by hand, with a password of its own and a value that is not even UTF-8.
      await root.add(dn, { objectClass: ['inetOrgPerson'], cn: ['Bo by hand'], sn: ['Hand'], uid: [uid], userPassword: [await hashSecret('hand-set', 'SSHA')] });
      await root.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: [Buffer.from([0xff, 0xfe, 0x01])] }) }));
      assert.equal(await binds(dn, 'hand-set'), true);
      const bo = await person(s.coId, 'Bo', [{ identifier: uid, type: 'uid' }]);
      const secret = await token(s, bo.id);
      await t.worker.drain();
      assert.equal(await binds(dn, secret), true, 'Bo’s token binds');
      assert.equal(await binds(dn, 'hand-set'), keepOtherValues, keepOtherValues ? 'kept when asked' : 'the hand-set password is gone');
      const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['userPassword'], explicitBufferAttributes: ['userPassword'] });
      const values = ([] as unknown[]).concat(searchEntries[0]!.userPassword ?? []).map((v) => v as Buffer);
      assert.equal(values.length, keepOtherValues ? 3 : 1);
      assert.ok((await Promise.all(values.map((v) => verifySecret(secret, v.toString('utf8'))))).some(Boolean));
      assert.deepEqual((await personProvisioningStates(t.ctx, SYSTEM_ACTOR, s.coId, bo.id)).map((x) => x.status), ['provisioned', 'provisioned']);
    }
  });
});
