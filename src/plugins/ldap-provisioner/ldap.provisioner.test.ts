// The LDAP provisioner against a real slapd: what entries hold, how many operations each case
// costs (counted by slapd's monitor), renames, removal, escaping, and errors an operator can act on.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { startSlapd, type SlapdInstance } from '../../../test/support/slapd.ts';
import { newId } from '../../db/ids.ts';
import type { Target } from '../../core/provisioning/provisioner.ts';
import type { LdapConfig } from './ldap-config.schema.ts';
import { buildDn } from './ldap-dn.ts';
import { ldapProvisioner } from './ldap.provisioner.ts';
import { ldapSettings, monitorConfig, operationsDuring, personData, StateKeeper, targetOf, TestSession } from './ldap-provisioner.test-support.ts';

const BASE = 'ou=people,dc=example,dc=org';

describe('LDAP provisioner against slapd', () => {
  let slapd: SlapdInstance;
  let root: Client;

  before(async () => {
    slapd = await startSlapd({ extraConfig: monitorConfig('cn=admin,dc=example,dc=org') });
    root = new Client({ url: slapd.url, timeout: 5_000 });
    await root.bind(slapd.rootDn, slapd.rootPassword);
  });
  after(async () => {
    await root?.unbind().catch(() => undefined);
    await slapd?.stop();
  });

  function target(overrides: Record<string, unknown> = {}): Target<LdapConfig> {
    return targetOf('ldap', ldapSettings({ url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, baseDn: BASE, subtrees: ['dc=example,dc=org'], ...overrides }));
  }

  async function read(dn: string, attributes: string[] = ['*', 'entryCSN']): Promise<Record<string, string[]> | undefined> {
    try {
      const { searchEntries } = await root.search(dn, { scope: 'base', attributes });
      const e = searchEntries[0];
      if (!e) return undefined;
      const out: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(e)) if (k !== 'dn') out[k] = (Array.isArray(v) ? v : [v]).map(String).sort();
      return out;
    } catch (error) {
      if ((error as Error).name === 'NoSuchObjectError') return undefined;
      throw error;
    }
  }

  const ldap = ldapProvisioner();
  const provision = ldap.provision.bind(ldap);

  it('first provisioning costs one add, and the entry holds the person', async () => {
    const t = target();
    const keeper = new StateKeeper();
    const data = personData({}, ['CO:members:active', 'wiki-editors']);
    const uid = data.person.identifiers[0]!.identifier;
    let result;
    const ops = await operationsDuring(slapd, async () => {
      result = await keeper.run(provision, t, [t], 'present', data);
    });
    // The add, and one base search that reads the new entry's entryUUID back (Tessera records what it created).
    assert.deepEqual(ops, { bind: 1, search: 1, add: 1, modify: 0, modrdn: 0, delete: 0 });
    const dn = `uid=${uid},${BASE}`;
    const entryUuid = (await read(dn, ['entryUUID']))!.entryUUID![0];
    assert.match(String(entryUuid), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(result, { status: 'provisioned', targetKey: dn, detail: { entry: keeper.states.get(t.id)!.detail.entry, entryUuid } });
    const entry = (await read(dn))!;
    assert.deepEqual(entry.objectClass, ['eduMember', 'eduPerson', 'inetOrgPerson', 'organizationalPerson', 'person', 'top', 'voPerson'].sort());
    assert.deepEqual(entry.cn, ['Pat Example']);
    assert.deepEqual(entry.sn, ['Example']);
    assert.deepEqual(entry.givenName, ['Pat']);
    assert.deepEqual(entry.displayName, ['Pat Example']);
    assert.deepEqual(entry.mail, ['pat@example.org']);
    assert.deepEqual(entry.uid, [uid]);
    assert.deepEqual(entry.isMemberOf, ['CO:members:active', 'wiki-editors']);
    assert.deepEqual(entry.voPersonStatus, ['active']);
  });

  it('running again reads once and writes nothing; a change costs one read and one modify', async () => {
    const t = target();
    const keeper = new StateKeeper();
    const data = personData({}, ['CO:members:active', 'wiki-editors']);
    const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    const csn = (await read(dn))!.entryCSN;

    const again = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'present', data));
    assert.deepEqual(again, { bind: 1, search: 1, add: 0, modify: 0, modrdn: 0, delete: 0 });
    assert.deepEqual((await read(dn))!.entryCSN, csn, 'the entry was not modified');

    data.person.emails = [];
    data.person.names.push({ id: newId(), given: 'Patricia', middle: 'Q', family: null, suffix: null, type: 'alternative', primary: false });
    data.groups = data.groups.slice(0, 1);
    const change = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'present', data));
    assert.deepEqual(change, { bind: 1, search: 1, add: 0, modify: 1, modrdn: 0, delete: 0 });
    const entry = (await read(dn))!;
    assert.equal(entry.mail, undefined, 'an owned attribute with no value is deleted');
    assert.deepEqual(entry.cn, ['Pat Example', 'Patricia Q']);
    assert.deepEqual(entry.sn, ['Example', 'Patricia'], 'sn falls back to the given name');
    assert.deepEqual(entry.givenName, ['Pat', 'Patricia']);
    assert.deepEqual(entry.displayName, ['Pat Example']);
    assert.deepEqual(entry.isMemberOf, ['CO:members:active']);
  });

  it('reuses one bound connection for the people of a pass', async () => {
    const t = target();
    const session = new TestSession();
    const people = Array.from({ length: 5 }, () => personData());
    const ops = await operationsDuring(slapd, async () => {
      await Promise.all(people.map((data) => ldap.provision({ target: t, targets: [t], intent: 'present', data, personId: data.person.id, previous: undefined, stateOf: async () => undefined, session })));
      await session.closeAll();
    });
    assert.deepEqual(ops, { bind: 1, search: 5, add: 5, modify: 0, modrdn: 0, delete: 0 });
  });

  it('never touches values it does not own (token attributes, attributes not chosen)', async () => {
    const t = target({ attributes: ['cn', 'sn', 'uid', 'isMemberOf'] });
    const keeper = new StateKeeper();
    const data = personData();
    const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    assert.equal((await read(dn))!.mail, undefined, 'mail is not chosen');
    await root.modify(dn, [
      new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: ['{SSHA512}other-service'] }) }),
      new Change({ operation: 'add', modification: new Attribute({ type: 'voPersonApplicationPassword;app-wiki', values: ['{SSHA512}wiki'] }) }),
      new Change({ operation: 'add', modification: new Attribute({ type: 'mail', values: ['kept@example.org'] }) }),
      new Change({ operation: 'add', modification: new Attribute({ type: 'description', values: ['set by hand'] }) }),
    ]);
    data.groups = [];
    data.person.status = 'suspended';
    await keeper.run(provision, t, [t], 'present', data);
    const entry = (await read(dn))!;
    assert.deepEqual(entry.userPassword, ['{SSHA512}other-service']);
    assert.deepEqual(entry['voPersonApplicationPassword;app-wiki'], ['{SSHA512}wiki']);
    assert.deepEqual(entry.mail, ['kept@example.org']);
    assert.deepEqual(entry.description, ['set by hand']);
    assert.equal(entry.isMemberOf, undefined);
  });

  it('keeps the entry of a suspended person without isMemberOf, with their status', async () => {
    const t = target();
    const keeper = new StateKeeper();
    const data = personData({}, ['CO:members:active', 'admins']);
    const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    const suspended = personData({ ...data.person, status: 'suspended' }, []);
    await keeper.run(provision, t, [t], 'present', suspended);
    const entry = (await read(dn))!;
    assert.equal(entry.isMemberOf, undefined);
    assert.deepEqual(entry.voPersonStatus, ['suspended']);
    assert.ok(entry.objectClass!.includes('eduMember'));
  });

  it('renames the entry when its DN identifier changes, keeping other values', async () => {
    const t = target();
    const keeper = new StateKeeper();
    const data = personData();
    const oldDn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    await root.modify(oldDn, new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: ['{SSHA512}token'] }) }));
    data.person.identifiers = [{ id: newId(), identifier: 'renamed, "the" one', type: 'uid', login: true, status: 'active' }];
    let result;
    const ops = await operationsDuring(slapd, async () => {
      result = await keeper.run(provision, t, [t], 'present', data);
    });
    const newDn = buildDn('uid', 'renamed, "the" one', BASE);
    assert.equal(result!.targetKey, newDn);
    assert.deepEqual(ops, { bind: 1, search: 1, add: 0, modify: 0, modrdn: 1, delete: 0 });
    assert.equal(await read(oldDn), undefined);
    const entry = (await read(newDn))!;
    assert.deepEqual(entry.uid, ['renamed, "the" one']);
    assert.deepEqual(entry.userPassword, ['{SSHA512}token']);
  });

  it('moves the entry when the base DN changes, even for a value ending in a backslash', async () => {
    await root.add(`ou=staff,dc=example,dc=org`, { objectClass: ['organizationalUnit'], ou: 'staff' });
    const keeper = new StateKeeper();
    const data = personData({ identifiers: [{ id: newId(), identifier: 'ends\\', type: 'uid', login: true, status: 'active' }] });
    const t = target();
    const oldDn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    const moved = { ...t, config: { ...t.config, baseDn: 'ou=staff,dc=example,dc=org' } };
    const newDn = (await keeper.run(provision, moved, [moved], 'present', data)).targetKey!;
    assert.equal(newDn, 'uid=ends\\\\,ou=staff,dc=example,dc=org');
    assert.equal(await read(oldDn), undefined);
    assert.deepEqual((await read(newDn))!.uid, ['ends\\']);
  });

  it('escapes DN values: specials, leading and trailing spaces, #, non-ASCII', async () => {
    const t = target();
    for (const value of [',+"\\<>;=', ' lead and trail ', '#hash', 'Zoë 山田', 'a=b+c=d', '\\', ' # ']) {
      const keeper = new StateKeeper();
      const data = personData({ identifiers: [{ id: newId(), identifier: value, type: 'uid', login: true, status: 'active' }] });
      const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
      assert.equal(dn, buildDn('uid', value, BASE));
      assert.deepEqual((await read(dn))!.uid, [value], JSON.stringify(value));
      // A second run finds the entry at the same DN.
      const ops = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'present', data));
      assert.equal(ops.modify + ops.add + ops.modrdn, 0, JSON.stringify(value));
      const removed = await keeper.run(provision, t, [t], 'absent', data);
      assert.equal(removed.status, 'removed');
      assert.equal(await read(dn), undefined, JSON.stringify(value));
    }
  });

  it('removes the entry for intent absent; an entry already gone counts as removed', async () => {
    const t = target();
    const keeper = new StateKeeper();
    const data = personData();
    const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    const ops = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'absent', undefined));
    assert.deepEqual(ops, { bind: 1, search: 0, add: 0, modify: 0, modrdn: 0, delete: 1 });
    assert.equal(await read(dn), undefined);
    assert.deepEqual(await keeper.run(provision, t, [t], 'absent', undefined), { status: 'removed', targetKey: dn });
    // Provisioned again after removal: one add, and the search that reads its entryUUID back.
    const back = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'present', data));
    assert.equal(back.add, 1);
    assert.equal(back.search, 1);
  });

  it('takes over an entry that exists already (no previous state) when adopting is switched on: add, then read and modify', async () => {
    const t = target({ adoptExistingEntries: true });
    const data = personData();
    const dn = buildDn('uid', data.person.identifiers[0]!.identifier, BASE);
    await root.add(dn, { objectClass: ['inetOrgPerson'], cn: 'Old Name', sn: 'Old', uid: data.person.identifiers[0]!.identifier, mail: 'old@example.org' });
    const ops = await operationsDuring(slapd, () => new StateKeeper().run(provision, t, [t], 'present', data));
    assert.deepEqual(ops, { bind: 1, search: 1, add: 1, modify: 1, modrdn: 0, delete: 0 });
    const entry = (await read(dn))!;
    assert.deepEqual(entry.cn, ['Pat Example']);
    assert.deepEqual(entry.mail, ['pat@example.org']);
    assert.ok(entry.objectClass!.includes('voPerson'));
  });

  it('makes the entry anew when it was deleted behind its back', async () => {
    const t = target();
    const keeper = new StateKeeper();
    const data = personData();
    const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    const first = keeper.states.get(t.id)!.detail.entry;
    await root.del(dn);
    const ops = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'present', data));
    // The read finds it missing, the add makes it, a search reads its entryUUID back.
    assert.deepEqual(ops, { bind: 1, search: 2, add: 1, modify: 0, modrdn: 0, delete: 0 });
    assert.ok(await read(dn));
    assert.notEqual(keeper.states.get(t.id)!.detail.entry, first, 'a new entry has a new generation');
  });

  it('fails clearly when the person lacks the naming identifier, and when it cannot bind or connect', async () => {
    const t = target({ dnIdentifierType: 'eppn' });
    await assert.rejects(new StateKeeper().run(provision, t, [t], 'present', personData()), /has no active identifier of type "eppn", which names the LDAP entry \(uid=…,ou=people/);
    const wrong = target({ bindPassword: 'wrong' });
    await assert.rejects(new StateKeeper().run(provision, wrong, [wrong], 'present', personData()), /LDAP bind to .* as cn=admin,dc=example,dc=org failed: invalid credentials/);
    const nowhere = target({ url: 'ldap://127.0.0.1:1' });
    await assert.rejects(new StateKeeper().run(provision, nowhere, [nowhere], 'present', personData()), /cannot connect to LDAP server ldap:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
    // This slapd has no TLS: StartTLS is refused, and nothing is sent in the clear instead.
    const noTls = target({ startTls: true });
    await assert.rejects(new StateKeeper().run(provision, noTls, [noTls], 'present', personData()), /cannot connect to LDAP server .* with StartTLS: /);
  });

  it('connects once per pass when the server is broken: the other people of the pass fail at once', async () => {
    let connections = 0;
    const broken = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const t = target({ url: `ldap://127.0.0.1:${(broken.address() as { port: number }).port}` });
      const session = new TestSession();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => personData()).map((data) => ldap.provision({ target: t, targets: [t], intent: 'present', data, personId: data.person.id, previous: undefined, stateOf: async () => undefined, session })),
      );
      await session.closeAll();
      assert.ok(results.every((r) => r.status === 'rejected' && /cannot connect to LDAP server/.test(String(r.reason))));
      assert.equal(connections, 1);
      // The next pass tries again.
      await assert.rejects(new StateKeeper().run(provision, t, [t], 'present', personData()), /cannot connect/);
      assert.equal(connections, 2);
    } finally {
      broken.close();
    }
  });

  it('names the entry after another identifier type, with that value in the DN attribute', async () => {
    const t = target({ dnAttribute: 'cn', dnIdentifierType: 'eppn', attributes: ['sn', 'mail'] });
    const data = personData();
    data.person.identifiers.push({ id: newId(), identifier: 'pat@example.org', type: 'eppn', login: false, status: 'active' });
    const keeper = new StateKeeper();
    const dn = (await keeper.run(provision, t, [t], 'present', data)).targetKey!;
    assert.equal(dn, `cn=pat@example.org,${BASE}`);
    const entry = (await read(dn))!;
    assert.deepEqual(entry.cn, ['pat@example.org']);
    assert.equal(entry.uid, undefined);
    const again = await operationsDuring(slapd, () => keeper.run(provision, t, [t], 'present', data));
    assert.equal(again.modify, 0);
  });
});
