import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../db/ids.ts';
import { ldapConfigSchema } from './ldap-config.schema.ts';
import { valuesOf } from './ldap-connection.ts';
import { addAttributes, changesFor, desiredEntry, dnOf } from './ldap-entry.ts';
import { ldapEntryDetailOf, ldapEntryOf } from './ldap-extension.ts';
import { ldapSettings, personData } from './ldap-provisioner.test-support.ts';

const attrs = (entry: ReturnType<typeof desiredEntry>) => Object.fromEntries(entry.attributes);

describe('desiredEntry', () => {
  it('maps the person: cn from every name, sn the family name or else the given name, one displayName', () => {
    const data = personData({
      displayName: 'Ana María Pérez',
      names: [
        { id: newId(), given: 'Ana', middle: 'María', family: 'Pérez', suffix: null, type: 'official', primary: true },
        { id: newId(), given: 'Ani', middle: null, family: null, suffix: null, type: 'preferred', primary: false },
        { id: newId(), given: 'ana', middle: 'maría', family: 'pérez', suffix: null, type: 'alternative', primary: false },
      ],
      identifiers: [
        { id: newId(), identifier: 'aperez', type: 'uid', login: true, status: 'active' },
        { id: newId(), identifier: 'ana2', type: 'uid', login: false, status: 'active' },
        { id: newId(), identifier: 'old', type: 'uid', login: false, status: 'suspended' },
        { id: newId(), identifier: 'ana@uni.example', type: 'eppn', login: false, status: 'active' },
      ],
      emails: [
        { id: newId(), mail: 'ana@example.org', type: 'official', verified: true },
        { id: newId(), mail: 'ANA@example.org', type: 'personal', verified: false },
        { id: newId(), mail: 'ana@lab.example', type: 'personal', verified: false },
      ],
    }, ['CO:members:active', 'Wiki', 'wiki']);
    const entry = desiredEntry(ldapSettings(), data);
    assert.equal(entry.dn, 'uid=aperez,ou=people,dc=example,dc=org');
    assert.deepEqual(attrs(entry), {
      cn: ['Ana María Pérez', 'Ani'],
      sn: ['Pérez', 'Ani'],
      givenName: ['Ana', 'Ani'],
      displayName: ['Ana María Pérez'],
      mail: ['ana@example.org', 'ana@lab.example'],
      uid: ['aperez', 'ana2'],
      isMemberOf: ['CO:members:active', 'Wiki', 'wiki'],
      voPersonStatus: ['active'],
    });
    assert.deepEqual(entry.objectClasses, ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'eduPerson', 'eduMember', 'voPerson']);
  });

  it('writes isMemberOf and voPersonStatus only with their object classes, and only chosen attributes', () => {
    const entry = desiredEntry(ldapSettings({ eduPerson: false, eduMember: false, voPerson: false }), personData());
    assert.deepEqual([...entry.attributes.keys()], ['cn', 'sn', 'givenName', 'displayName', 'mail', 'uid']);
    assert.deepEqual(entry.objectClasses, ['top', 'person', 'organizationalPerson', 'inetOrgPerson']);
    const some = desiredEntry(ldapSettings({ attributes: ['mail', 'isMemberOf'] }), personData());
    assert.deepEqual([...some.attributes.keys()], ['mail', 'isMemberOf', 'uid'], 'the DN attribute is always owned');
    const add = addAttributes(some).attributes;
    assert.deepEqual(add.cn, [some.rdnValue], 'person requires cn and sn: the add gets the naming value');
    assert.deepEqual(add.sn, [some.rdnValue]);
  });

  it('gives suspended people no groups and their status', () => {
    const entry = desiredEntry(ldapSettings(), personData({ status: 'suspended' }, []));
    assert.deepEqual(entry.attributes.get('isMemberOf'), []);
    assert.deepEqual(entry.attributes.get('voPersonStatus'), ['suspended']);
    assert.equal(addAttributes(entry).attributes.isMemberOf, undefined, 'no empty attribute in an add');
  });

  it('names the entry by the login identifier of the DN type, and puts that value in the DN attribute', () => {
    const data = personData({
      identifiers: [
        { id: newId(), identifier: 'b-other', type: 'eppn', login: false, status: 'active' },
        { id: newId(), identifier: 'a-login, Ltd', type: 'eppn', login: true, status: 'active' },
        { id: newId(), identifier: 'jdoe', type: 'uid', login: false, status: 'active' },
      ],
    });
    const config = ldapSettings({ dnAttribute: 'uid', dnIdentifierType: 'eppn' });
    const entry = desiredEntry(config, data);
    assert.equal(entry.dn, 'uid=a-login\\, Ltd,ou=people,dc=example,dc=org');
    assert.deepEqual(entry.attributes.get('uid'), ['a-login, Ltd', 'jdoe']);
    assert.equal(dnOf(config, data), entry.dn);
  });

  it('refuses a person without the naming identifier, saying what to do', () => {
    const data = personData({ identifiers: [] });
    assert.equal(dnOf(ldapSettings(), data), undefined);
    assert.throws(() => desiredEntry(ldapSettings(), data), /Pat Example has no active identifier of type "uid".*add one, or change the target's DN identifier type/);
  });
});

describe('mail values', () => {
  it('writes ASCII addresses as they are, a Unicode domain in its xn-- form, and leaves out a non-ASCII local part (mail is an IA5 String)', () => {
    const data = personData({
      emails: [
        { id: newId(), mail: 'ana@example.org', type: 'official', verified: true },
        { id: newId(), mail: 'ana@bücher.example', type: 'personal', verified: false },
        { id: newId(), mail: 'zoë@example.org', type: 'personal', verified: false },
      ],
    });
    const entry = desiredEntry(ldapSettings({ attributes: ['cn', 'sn', 'mail', 'uid'] }), data);
    assert.deepEqual(attrs(entry).mail, ['ana@example.org', 'ana@xn--bcher-kva.example']);
  });
});

describe('values other targets contribute to an add', () => {
  it('merges the contributions, records which went in, and never puts one into an owned attribute', () => {
    const data = personData();
    const contributions = [
      { sourceTargetId: 'T1', attribute: 'userPassword', values: ['{SSHA512}a'] },
      { sourceTargetId: 'T2', attribute: 'userPassword', values: ['{SSHA512}b', '{SSHA512}b'] },
      { sourceTargetId: 'T3', attribute: 'voPersonApplicationPassword;app-wiki', values: ['{SSHA512}w'] },
      { sourceTargetId: 'T4', attribute: 'mail', values: ['sneaky@example.org'] },
      { sourceTargetId: 'T5', attribute: 'userPassword', values: [] },
    ];
    const { attributes, contributed } = addAttributes(desiredEntry(ldapSettings(), data), contributions);
    assert.deepEqual(attributes.userPassword, ['{SSHA512}a', '{SSHA512}b']);
    assert.deepEqual(attributes['voPersonApplicationPassword;app-wiki'], ['{SSHA512}w']);
    assert.deepEqual(attributes.mail, ['pat@example.org'], 'an owned attribute takes no contribution');
    assert.deepEqual(contributed, {
      T1: { attribute: 'userPassword', values: ['{SSHA512}a'] },
      T2: { attribute: 'userPassword', values: ['{SSHA512}b'] },
      T3: { attribute: 'voPersonApplicationPassword;app-wiki', values: ['{SSHA512}w'] },
    });
  });

  it('reads back what the LDAP target recorded, keeping only well-formed contributed values', () => {
    const detail = { entry: 'g1', seeded: { T1: { attribute: 'userPassword', values: ['{SSHA512}a'] }, T2: { nonsense: true }, T3: { attribute: 'userPassword', values: [1] } } };
    assert.deepEqual(ldapEntryDetailOf({ status: 'provisioned', targetKey: 'uid=pat,ou=people', detail }), { entry: 'g1', seeded: { T1: { attribute: 'userPassword', values: ['{SSHA512}a'] } } });
    assert.deepEqual(ldapEntryOf({ status: 'provisioned', targetKey: 'uid=pat,ou=people', detail }), { dn: 'uid=pat,ou=people', generation: 'g1', contributed: { T1: { attribute: 'userPassword', values: ['{SSHA512}a'] } } });
    assert.deepEqual(ldapEntryOf({ status: 'removed', targetKey: 'uid=pat,ou=people', detail: {} }), { dn: null, generation: undefined, contributed: {} });
    assert.deepEqual(ldapEntryOf(undefined), { dn: null, generation: undefined, contributed: {} });
  });
});

describe('changesFor', () => {
  const entry = desiredEntry(ldapSettings(), personData({ identifiers: [{ id: newId(), identifier: 'pat', type: 'uid', login: true, status: 'active' }] }, ['g1']));
  const holding = (over: Record<string, string[]>) =>
    valuesOf({
      dn: entry.dn,
      objectClass: entry.objectClasses,
      ...Object.fromEntries([...entry.attributes].filter(([, v]) => v.length > 0)),
      ...over,
    });

  it('is empty when the entry holds exactly the desired values, whatever their order', () => {
    assert.deepEqual(changesFor(entry, holding({ objectclass: [...entry.objectClasses].reverse().map((c) => c.toUpperCase()) })), []);
  });

  it('replaces what differs, deletes what should be empty, adds missing object classes', () => {
    const current = holding({ mail: ['old@example.org'], isMemberOf: ['g1', 'g2'], objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'] });
    const noGroups = { ...entry, attributes: new Map(entry.attributes).set('isMemberOf', []) };
    const changes = changesFor(noGroups, current).map((c) => ({ op: c.operation, type: c.modification.type, values: c.modification.values }));
    assert.deepEqual(changes, [
      { op: 'add', type: 'objectClass', values: ['eduPerson', 'eduMember', 'voPerson'] },
      { op: 'replace', type: 'mail', values: ['pat@example.org'] },
      { op: 'delete', type: 'isMemberOf', values: [] },
    ]);
  });

  it('writes a change of case (the directory would keep the old spelling otherwise)', () => {
    const changes = changesFor(entry, holding({ cn: ['pat example'] }));
    assert.deepEqual(changes.map((c) => [c.operation, c.modification.type]), [['replace', 'cn']]);
  });
});

describe('ldapConfigSchema', () => {
  const base = { serverId: 'server-1', url: 'ldaps://ldap.example.org:636', bindDn: 'cn=tessera,dc=example,dc=org', bindPassword: 'pw', baseDn: 'ou=people,dc=example,dc=org', subtrees: ['dc=example,dc=org'] };

  it('takes form posts: checkboxes, comma-separated attributes, defaults', () => {
    const parsed = ldapConfigSchema.parse({ ...base, eduMember: 'on', attributes: 'cn, sn,mail' });
    assert.equal(parsed.eduMember, true);
    assert.equal(parsed.voPerson, false);
    assert.equal(parsed.startTls, false);
    assert.deepEqual(parsed.attributes, ['cn', 'sn', 'mail']);
    assert.equal(parsed.dnAttribute, 'uid');
    assert.equal(parsed.dnIdentifierType, 'uid');
    assert.deepEqual(ldapConfigSchema.parse(base).attributes, ['cn', 'sn', 'givenName', 'displayName', 'mail', 'uid', 'isMemberOf', 'voPersonStatus']);
  });

  it('refuses other URLs, malformed DNs, StartTLS over ldaps and unknown attributes', () => {
    const issues = (input: Record<string, unknown>) => {
      const r = ldapConfigSchema.safeParse({ ...base, ...input });
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    assert.deepEqual(issues({ url: 'http://ldap.example.org' }), ['url']);
    assert.deepEqual(issues({ url: 'ldap://host/dc=x??sub' }), ['url']);
    assert.deepEqual(issues({ baseDn: 'people' }), ['baseDn']);
    assert.deepEqual(issues({ bindDn: '' }), ['bindDn']);
    assert.deepEqual(issues({ startTls: true }), ['startTls']);
    assert.deepEqual(issues({ attributes: ['cn', 'userPassword'] }), ['attributes.1']);
    assert.deepEqual(issues({ dnAttribute: 'uid,x' }), ['dnAttribute']);
    assert.deepEqual(issues({ url: 'ldap://[::1]:3389', startTls: 'on' }), []);
  });
});
