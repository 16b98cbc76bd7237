import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDn, escapeDnValue, modifyDnTarget, normalizeDn, parseDn, sameDn, splitFirstRdn } from './ldap-dn.ts';

describe('escapeDnValue (RFC 4514)', () => {
  it('escapes each special character wherever it is', () => {
    assert.equal(escapeDnValue('a,b'), 'a\\,b');
    assert.equal(escapeDnValue('a+b'), 'a\\+b');
    assert.equal(escapeDnValue('a"b'), 'a\\"b');
    assert.equal(escapeDnValue('a\\b'), 'a\\\\b');
    assert.equal(escapeDnValue('a<b>c'), 'a\\<b\\>c');
    assert.equal(escapeDnValue('a;b'), 'a\\;b');
    assert.equal(escapeDnValue('a=b'), 'a\\=b');
    assert.equal(escapeDnValue(',+"\\<>;='), '\\,\\+\\"\\\\\\<\\>\\;\\=');
  });

  it('escapes a leading # and leading or trailing spaces, not inner ones', () => {
    assert.equal(escapeDnValue('#1'), '\\#1');
    assert.equal(escapeDnValue('a#1'), 'a#1');
    assert.equal(escapeDnValue(' a b '), '\\ a b\\ ');
    assert.equal(escapeDnValue('  two  '), '\\  two \\ ');
    assert.equal(escapeDnValue(' '), '\\ ');
  });

  it('keeps non-ASCII characters and hex-escapes control characters', () => {
    assert.equal(escapeDnValue('Émile Zoë 山田 😀'), 'Émile Zoë 山田 😀');
    assert.equal(escapeDnValue('a\u0000b\nc\u007f'), 'a\\00b\\0Ac\\7F');
  });

  it('round-trips through parseDn, the way a directory reads it', () => {
    const values = ['plain', ',+"\\<>;=', ' lead', 'trail ', '#hash', ' #both# ', 'Ünïcödé, Ltd.', 'a\\', '\\', 'x\u0000y', '山田 太郎', '😀'];
    for (const value of values) {
      const dn = buildDn('uid', value, 'ou=people,dc=example,dc=org');
      const rdns = parseDn(dn);
      assert.equal(rdns.length, 4, dn);
      assert.deepEqual(rdns[0], [{ type: 'uid', value }], dn);
      assert.deepEqual(rdns[1], [{ type: 'ou', value: 'people' }]);
    }
  });
});

describe('parseDn and sameDn', () => {
  it('reads hex escapes, multi-valued RDNs and optional spaces', () => {
    assert.deepEqual(parseDn('cn=J\\2C Doe + uid=jd , ou=people,dc=x'), [
      [
        { type: 'cn', value: 'J, Doe' },
        { type: 'uid', value: 'jd' },
      ],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'x' }],
    ]);
    assert.deepEqual(parseDn('cn=\\C3\\89mile,dc=x')[0], [{ type: 'cn', value: 'Émile' }]);
    assert.deepEqual(parseDn(''), []);
  });

  it('refuses what is not a DN', () => {
    assert.throws(() => parseDn('people'), /Not a valid DN/);
    assert.throws(() => parseDn('cn=a\\'), /dangling backslash/);
    assert.throws(() => parseDn('=x,dc=y'), /Not a valid DN/);
  });

  it('compares without regard to case, spacing or escape spelling', () => {
    assert.ok(sameDn('uid=Jo,ou=People,dc=Example,dc=org', 'UID=jo, ou=people, dc=example, dc=org'));
    assert.ok(sameDn('cn=a\\2Cb,dc=x', 'cn=a\\,b,dc=x'));
    assert.ok(!sameDn('uid=jo,ou=people,dc=x', 'uid=jo2,ou=people,dc=x'));
    assert.ok(!sameDn('uid=jo,ou=people,dc=x', 'uid=jo,ou=staff,dc=x'));
    assert.equal(normalizeDn('UID=A\\ ,DC=X'), 'uid=a\\ ,dc=x');
  });
});

describe('renaming', () => {
  it('splits the first RDN at the first unescaped comma', () => {
    assert.deepEqual(splitFirstRdn('uid=a\\,b,ou=people,dc=x'), { rdn: 'uid=a\\,b', parent: 'ou=people,dc=x' });
    assert.deepEqual(splitFirstRdn('uid=a\\\\,ou=people,dc=x'), { rdn: 'uid=a\\\\', parent: 'ou=people,dc=x' });
    assert.deepEqual(splitFirstRdn('dc=x'), { rdn: 'dc=x', parent: '' });
  });

  it('sends only the new RDN when the parent stays, and a split-safe DN when it moves', () => {
    assert.equal(modifyDnTarget('uid=old,ou=people,dc=x', 'uid=new\\,1,ou=People,dc=x'), 'uid=new\\,1');
    assert.equal(modifyDnTarget('uid=old,ou=people,dc=x', 'uid=new,ou=staff,dc=x'), 'uid=new,ou=staff,dc=x');
    // ldapts splits at /[^\\],/: an RDN ending in an escaped backslash must not end in "\\".
    const moved = modifyDnTarget('uid=old,ou=people,dc=x', 'uid=a\\\\,ou=staff,dc=x');
    assert.equal(moved, 'uid=a\\5C,ou=staff,dc=x');
    const at = moved.search(/[^\\],/);
    assert.equal(moved.slice(0, at + 1), 'uid=a\\5C');
    assert.deepEqual(parseDn(moved)[0], [{ type: 'uid', value: 'a\\' }]);
  });
});
