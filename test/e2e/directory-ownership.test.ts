// Directory ownership in a shared, multi-CO deployment, against a real slapd on SQLite and
// PostgreSQL: LDAP servers are the platform's (a CO admin never sees or moves the credential, and
// cannot aim a target outside its subtrees or at another host); Tessera takes over or deletes only
// entries it created, unless a platform admin lets a target adopt existing ones (recorded in
// history); isMemberOf may name groups as <CO>:<group>.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, it } from 'node:test';
import { Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { listCoHistory } from '../../src/core/history/history.service.ts';
import { deletePerson } from '../../src/core/people/person.service.ts';
import { personProvisioningStates, requestReprovision } from '../../src/core/provisioning/provisioning.service.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { ensurePlatformCo } from '../../src/core/cos/co.service.ts';
import { newId } from '../../src/db/ids.ts';
import { isWithinSubtree, buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { apiAs } from '../support/api-client.ts';
import { addLdapServer } from '../support/ldap-servers.ts';
import { startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { buildApiUser, buildCo, buildPerson, createTestApp, forEachDialect, signIn, type TestApp } from '../support/test-app.ts';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;

it('compares DNs with subtrees RDN by RDN after normalization, not as strings', () => {
  assert.equal(isWithinSubtree('OU=People,DC=Example,DC=org', SUFFIX), true);
  assert.equal(isWithinSubtree(SUFFIX, SUFFIX), true);
  assert.equal(isWithinSubtree('ou=people,dc=notexample,dc=org', SUFFIX), false, 'a string suffix is not a subtree');
  assert.equal(isWithinSubtree('ou=people,dc=example,dc=org,dc=evil', SUFFIX), false);
  assert.equal(isWithinSubtree('dc=org', SUFFIX), false, 'the parent is not inside');
  assert.equal(isWithinSubtree('cn=x\\,dc=example,dc=org', SUFFIX), false, 'an escaped comma is part of a value');
});

forEachDialect('Directory ownership', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;
  let root: Client;

  before(async () => {
    slapd = await startSlapd();
    root = new Client({ url: slapd.url, timeout: 5_000 });
    await root.bind(slapd.rootDn, slapd.rootPassword);
    t = await createTestApp({ dialect, plugins: [ldapProvisionerPlugin()] });
  });
  after(async () => {
    await t?.close();
    await root?.unbind().catch(() => undefined);
    await slapd?.stop();
  });

  async function entry(dn: string): Promise<Record<string, string[]> | undefined> {
    try {
      const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['*', 'entryUUID'] });
      const out: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(searchEntries[0] ?? {})) if (k !== 'dn') out[k] = (Array.isArray(v) ? v : [v]).map(String).sort();
      return out;
    } catch (error) {
      if ((error as Error).name === 'NoSuchObjectError') return undefined;
      throw error;
    }
  }

  /** A CO with an LDAP server assigned (subtree: the people OU) and an LDAP target on it. */
  async function directoryCo(config: Record<string, unknown> = {}) {
    const co = await buildCo(t);
    const serverId = await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] });
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, { provisionerType: 'ldap', description: 'Directory', mode: 'automatic', ordinal: 10, retryIntervalSeconds: 30, maxRetries: 3, provisionGroupId: null, config: { serverId, baseDn: PEOPLE, eduMember: true, ...config } });
    return { co, serverId, target };
  }

  async function ldapState(coId: string, personId: string) {
    return (await personProvisioningStates(t.ctx, SYSTEM_ACTOR, coId, personId))[0]!;
  }

  it('a CO admin never sees or moves the credential: servers are the platform’s, and a target holds no URL or password', async () => {
    const { co, serverId, target } = await directoryCo();
    const coAdmin = apiAs(t, (await buildApiUser(t, co.id, true)).authorization);
    const platform = apiAs(t, (await buildApiUser(t, (await ensurePlatformCo(t.ctx)).id, true)).authorization);
    const server = `/api/v1/ldap-servers/${serverId}`;
    const body = { name: 'Mine now', url: 'ldap://127.0.0.1:1', bindDn: 'cn=evil,dc=example,dc=org', subtrees: [SUFFIX] };
    for (const [method, url, payload] of [['GET', '/api/v1/ldap-servers'], ['GET', server], ['PUT', server, body], ['DELETE', server], ['PUT', `${server}/cos/${co.id}`], ['POST', '/api/v1/ldap-servers', { ...body, bindPassword: 'x' }]] as const) {
      assert.equal((await coAdmin(method, url, payload)).status, 403, `${method} ${url}`);
    }
    const seen = await platform('GET', server);
    assert.equal(seen.status, 200);
    assert.deepEqual([seen.body.url, seen.body.bindPassword, seen.body.coIds], [slapd.url, '(set)', [co.id]], 'platform admins see the server, never the password');
    assert.ok(!JSON.stringify(seen.body).includes(slapd.rootPassword));
    const assigned = await coAdmin('GET', `/api/v1/cos/${co.id}/ldap-servers`);
    assert.deepEqual(assigned.body.items, [{ id: serverId, name: seen.body.name, subtrees: [PEOPLE] }], 'a CO admin sees a name and subtrees only');
    const read = await coAdmin('GET', `/api/v1/cos/${co.id}/provisioning-targets/${target.id}`);
    assert.deepEqual(Object.keys(read.body.config).filter((k) => ['url', 'bindDn', 'bindPassword', 'startTls', 'tlsCaCertificates'].includes(k)), []);
    // Editing the base DN and bind DN with the password kept was the hole: there is no bind DN to edit.
    const moved = await coAdmin('PUT', `/api/v1/cos/${co.id}/provisioning-targets/${target.id}`, { ...read.body, config: { ...read.body.config, bindDn: 'cn=evil,dc=example,dc=org', bindPassword: '(set)' } });
    assert.equal(moved.status, 200);
    assert.equal((await platform('GET', server)).body.bindDn, slapd.rootDn, 'the server’s bind DN is unchanged');
    // The platform pages are platform admins' only.
    const coAdminBrowser = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
    assert.equal((await t.app.inject({ method: 'GET', url: '/platform/ldap-servers', headers: coAdminBrowser.headers })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'GET', url: `/platform/ldap-servers/${serverId}`, headers: coAdminBrowser.headers })).statusCode, 403);
  });

  it('a CO admin cannot point a target outside the server’s subtrees, at a server of another CO, or at another host', async () => {
    const { co, serverId } = await directoryCo();
    const other = await directoryCo();
    const coAdmin = apiAs(t, (await buildApiUser(t, co.id, true)).authorization);
    const create = (config: Record<string, unknown>) => coAdmin('POST', `/api/v1/cos/${co.id}/provisioning-targets`, { provisionerType: 'ldap', description: 'Mine', ordinal: 10, config });
    const outside = await create({ serverId, baseDn: 'ou=people,dc=other,dc=org' });
    assert.deepEqual([outside.status, outside.body.error.code, outside.body.error.field], [422, 'BASE_DN_OUTSIDE_SUBTREES', 'config.baseDn']);
    const above = await create({ serverId, baseDn: SUFFIX });
    assert.equal(above.body.error.code, 'BASE_DN_OUTSIDE_SUBTREES', 'the parent of the subtree is outside it');
    const foreign = await create({ serverId: other.serverId, baseDn: PEOPLE });
    assert.deepEqual([foreign.status, foreign.body.error.code, foreign.body.error.field], [422, 'LDAP_SERVER_NOT_ASSIGNED', 'config.serverId']);
    assert.equal((await create({ serverId, baseDn: `OU=People,${SUFFIX.toUpperCase()}` })).status, 201, 'inside after normalization');

    // A URL in the settings is no setting of a target: the server it names is never contacted.
    let connections = 0;
    const listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as { port: number }).port;
      const scan = await create({ serverId, baseDn: PEOPLE, url: `ldap://127.0.0.1:${port}`, startTls: true, bindDn: 'cn=x', bindPassword: 'y' });
      assert.equal(scan.status, 201);
      assert.equal(scan.body.config.url, undefined);
      await buildPerson(t, co.id);
      await t.worker.drain();
      assert.equal(connections, 0, 'nothing connected to the chosen host:port');
    } finally {
      listener.close();
    }
  });

  it('an add that meets an entry Tessera did not create fails with a clear job error, and writes nothing', async () => {
    const { co } = await directoryCo();
    const uid = `svcacct${newId().slice(0, 6)}`;
    const dn = buildDn('uid', uid, PEOPLE);
    await root.add(dn, { objectClass: ['inetOrgPerson'], cn: ['Service account'], sn: ['Account'], uid: [uid], mail: ['ops@example.org'] });
    const before = await entry(dn);
    const person = await buildPerson(t, co.id, { username: uid, email: 'mallory@example.org' });
    await t.worker.drain();
    const state = await ldapState(co.id, person.id);
    assert.equal(state.status, 'failed');
    assert.equal(state.lastError, `the entry ${dn} exists in the directory and Tessera did not create it; nothing was written. Remove or rename that entry, give Pat Example another identifier, or (for a migration) ask a platform admin to switch on "adopt existing entries" for this target`);
    assert.deepEqual(await entry(dn), before, 'cn, sn and mail are untouched');

    // Deleting the person never deletes an entry Tessera does not own.
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    await t.worker.drain();
    assert.deepEqual(await entry(dn), before, 'the foreign entry stays');
  });

  it('adopts an existing entry only when a platform admin switched adopting on, and records each adoption in history', async () => {
    const { co, target } = await directoryCo();
    const coAdmin = apiAs(t, (await buildApiUser(t, co.id, true)).authorization);
    const platform = apiAs(t, (await buildApiUser(t, (await ensurePlatformCo(t.ctx)).id, true)).authorization);
    const switchUrl = `/api/v1/cos/${co.id}/provisioning-targets/${target.id}/adopt-existing-entries`;
    assert.equal((await coAdmin('PUT', switchUrl, { adoptExistingEntries: true })).status, 403, 'a CO admin may not');
    const uid = `legacy${newId().slice(0, 6)}`;
    const dn = buildDn('uid', uid, PEOPLE);
    await root.add(dn, { objectClass: ['inetOrgPerson'], cn: ['Old Name'], sn: ['Old'], uid: [uid] });
    const person = await buildPerson(t, co.id, { username: uid, given: 'Lee', family: 'Migrated' });
    await t.worker.drain();
    assert.equal((await ldapState(co.id, person.id)).status, 'failed');

    const on = await platform('PUT', switchUrl, { adoptExistingEntries: true });
    assert.deepEqual([on.status, on.body], [200, { targetId: target.id, adoptExistingEntries: true }]);
    await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { personId: person.id });
    await t.worker.drain();
    assert.equal((await ldapState(co.id, person.id)).status, 'provisioned');
    assert.deepEqual((await entry(dn))!.cn, ['Lee Migrated']);
    const history = (await listCoHistory(t.ctx, SYSTEM_ACTOR, co.id, { limit: 500 })).map((h) => [h.action, h.comment]);
    assert.ok(history.some(([action]) => action === 'LDAP_ADOPTION_ENABLED'), 'switching it on is in history');
    assert.ok(history.some(([action, comment]) => action === 'LDAP_ENTRY_ADOPTED' && String(comment).includes(dn)), 'the adoption is in history');

    // Adopted, the entry is Tessera's: deleting the person removes it.
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    await t.worker.drain();
    assert.equal(await entry(dn), undefined);
  });

  it('deleting a person leaves an entry someone put in place of the one Tessera created', async () => {
    const { co } = await directoryCo();
    const person = await buildPerson(t, co.id);
    await t.worker.drain();
    const dn = (await ldapState(co.id, person.id)).targetKey!;
    const created = (await entry(dn))!.entryUUID![0];
    await root.del(dn);
    await root.add(dn, { objectClass: ['inetOrgPerson'], cn: ['Someone else'], sn: ['Else'], uid: [person.username] });
    assert.notEqual((await entry(dn))!.entryUUID![0], created);
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    await t.worker.drain();
    assert.deepEqual((await entry(dn))!.cn, ['Someone else'], 'the replacement stays: its entryUUID is not the one Tessera created');
  });

  it('writes CO-qualified isMemberOf values when the target asks for them', async () => {
    const { co } = await directoryCo({ isMemberOfFormat: 'co-qualified' });
    const plain = await directoryCo();
    const person = await buildPerson(t, co.id);
    const other = await buildPerson(t, plain.co.id);
    await t.worker.drain();
    assert.deepEqual((await entry((await ldapState(co.id, person.id)).targetKey!))!.isMemberOf, [`${co.name}:CO:members:active`]);
    assert.deepEqual((await entry((await ldapState(plain.co.id, other.id)).targetKey!))!.isMemberOf, ['CO:members:active']);
  });
});
