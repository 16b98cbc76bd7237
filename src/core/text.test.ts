// The text rule of core/text.ts as pure functions: identifier keys, the DN length bound, control
// characters and RFC 3339 date-times, the last also in a process running in Europe/Amsterdam.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { escapeDnValue } from '../plugins/ldap-provisioner/ldap-dn.ts';
import { dnValueOctets, forbiddenCharacterIn, identifierKey, identifierValueIssue, MAX_IDENTIFIER_DN_OCTETS, nulCharacterPath, oneLineText, rfc3339DateTime } from './text.ts';

describe('identifier keys', () => {
  it('folds what slapd takes for one uid: case, Unicode form, compatibility characters, İ, runs of spaces', () => {
    for (const [a, b] of [
      ['AdaQ', 'adaq'],
      ['zoe\u0308', 'zo\u00eb'],
      ['\ufb01', 'fi'],
      ['\u0130x', 'ix'],
      ['a  b', 'a b'],
      ['ÉMILE', 'émile'],
    ]) {
      assert.equal(identifierKey('uid', a!), identifierKey('uid', b!), `${a} / ${b}`);
    }
    for (const type of ['mail', 'eppn', 'epuid', 'orcid', 'network', 'enterprise', 'badge']) assert.equal(identifierKey(type, 'AdaQ'), 'adaq', type);
  });

  it('keeps case for oidcsub (OpenID Connect: sub is case-sensitive), yet compares it in NFC', () => {
    assert.notEqual(identifierKey('oidcsub', 'AbC'), identifierKey('oidcsub', 'abc'));
    assert.equal(identifierKey('oidcsub', 'zoe\u0308'), identifierKey('oidcsub', 'zo\u00eb'));
  });

  it('counts the octets of a DN value as the LDAP provisioner escapes it, and bounds them', () => {
    for (const v of ['ada', 'zoë', 'a,b+c', ' lead', 'trail ', '#x', 'Ω'.repeat(50), 'x=y;z<>"\\']) assert.equal(dnValueOctets(v), Buffer.byteLength(escapeDnValue(v)), v);
    assert.equal(identifierValueIssue('uid', 'a'.repeat(MAX_IDENTIFIER_DN_OCTETS)), undefined);
    assert.match(identifierValueIssue('uid', 'a'.repeat(MAX_IDENTIFIER_DN_OCTETS + 1)) ?? '', /Too long to name a directory entry: 201 octets/);
    assert.match(identifierValueIssue('uid', 'ä'.repeat(101)) ?? '', /202 octets/);
    assert.match(identifierValueIssue('uid', ','.repeat(101)) ?? '', /202 octets/);
    assert.equal(identifierValueIssue('oidcsub', 'a'.repeat(255)), undefined);
    assert.match(identifierValueIssue('oidcsub', 'a'.repeat(256)) ?? '', /At most 255/);
  });
});

describe('control characters', () => {
  it('refuses every Cc character and the line separators on one line, names it, and stores NFC', () => {
    for (const ch of ['\0', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u2028']) {
      const r = oneLineText({ max: 64 }).safeParse(`Quill${ch}Jr`);
      assert.equal(r.success, false, JSON.stringify(ch));
      assert.match(r.error!.issues[0]!.message, /^Contains a control character, U\+[0-9A-F]{4}/);
    }
    assert.equal(oneLineText({ max: 64 }).parse('  zoe\u0308  '), 'zo\u00eb');
    assert.equal(forbiddenCharacterIn('line\nbreak', true), undefined, 'a description may have lines');
    assert.equal(forbiddenCharacterIn('nul\0', true), 'U+0000 (NUL)');
  });

  it('finds a NUL anywhere in a body', () => {
    assert.equal(nulCharacterPath({ a: [{ b: 'x' }, { c: 'y\0' }] }), 'a.1.c');
    assert.equal(nulCharacterPath({ a: 'ok', n: 1 }), undefined);
  });
});

/** Offsets-or-nothing RFC 3339; everything else refused. */
const DATE_CASES: Array<[string, string | null]> = [
  ['2027-06-30T10:00:00Z', '2027-06-30T10:00:00.000Z'],
  ['2027-06-30T12:00:00+02:00', '2027-06-30T10:00:00.000Z'],
  ['2027-06-30T05:30:00-04:30', '2027-06-30T10:00:00.000Z'],
  ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ['2027-06-30T10:00:00.123456789Z', '2027-06-30T10:00:00.123Z'],
  ['2027-02-30T10:00:00Z', null],
  ['2027-02-29T10:00:00Z', null],
  ['2027-06-30T10:00:00', null],
  ['2027-06-30T10:00Z', null],
  ['2027-06-30', null],
  ['2030', null],
  ['1', null],
  ['2027-06-30T24:00:00Z', null],
  ['2027-06-30T10:00:60Z', null],
  ['June 30, 2027 10:00 UTC', null],
];

describe('RFC 3339 date-times', () => {
  it('accepts date-times with an offset and refuses impossible dates, missing offsets, dates, years and numbers', () => {
    for (const [input, expected] of DATE_CASES) {
      const r = rfc3339DateTime.safeParse(input);
      assert.equal(r.success ? r.data : null, expected, input);
    }
  });

  it('reads the same in a process whose time zone is Europe/Amsterdam', async () => {
    const script = `import { rfc3339DateTime } from ${JSON.stringify(fileURLToPath(new URL('./text.ts', import.meta.url)))};
      const cases = ${JSON.stringify(DATE_CASES.map(([i]) => i))};
      console.log(JSON.stringify({ offset: new Date(2027, 5, 30).getTimezoneOffset(), out: cases.map((c) => { const r = rfc3339DateTime.safeParse(c); return r.success ? r.data : null; }) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, TZ: 'Europe/Amsterdam' }, timeout: 30_000 });
    const { offset, out } = JSON.parse(stdout) as { offset: number; out: Array<string | null> };
    assert.equal(offset, -120, 'the child really runs in Amsterdam summer time');
    assert.deepEqual(out, DATE_CASES.map(([, e]) => e));
  });
});
