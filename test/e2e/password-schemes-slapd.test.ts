import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { PASSWORD_SCHEMES, hashSecret } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import { generateToken, findTokenType, DEFAULT_TOKEN_TYPE_ID } from '../../src/plugins/service-tokens/formats/token-types.ts';
import { startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';

/** A simple bind as a service would do it, with the command-line client. */
function ldapwhoami(url: string, dn: string, password: string): boolean {
  requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
  const r = spawnSync('ldapwhoami', ['-x', '-H', url, '-D', dn, '-w', password], { encoding: 'utf8' });
  return r.status === 0;
}

describe('hashes Tessera makes bind in a real slapd', () => {
  let slapd: SlapdInstance;
  let admin: Client;
  before(async () => {
    slapd = await startSlapd();
    admin = new Client({ url: slapd.url });
    await admin.bind(slapd.rootDn, slapd.rootPassword);
  });
  after(async () => {
    await admin.unbind();
    await slapd.stop();
  });

  for (const scheme of PASSWORD_SCHEMES) {
    it(`binds with a {${scheme}} token and refuses a wrong one`, async () => {
      const token = generateToken(findTokenType(DEFAULT_TOKEN_TYPE_ID)!);
      const hash = await hashSecret(token, scheme);
      const dn = `uid=${scheme.toLowerCase()},ou=people,${slapd.suffix}`;
      await admin.add(dn, {
        objectClass: ['inetOrgPerson'],
        uid: scheme.toLowerCase(),
        cn: scheme,
        sn: scheme,
        userPassword: hash,
      });
      assert.equal(ldapwhoami(slapd.url, dn, token), true, `slapd accepts the ${scheme} hash`);
      assert.equal(ldapwhoami(slapd.url, dn, `${token}x`), false);
    });
  }

  it('binds with any of several token hashes on one entry', async () => {
    const type = findTokenType(DEFAULT_TOKEN_TYPE_ID)!;
    const tokens = [generateToken(type), generateToken(type)];
    const dn = `uid=several,ou=people,${slapd.suffix}`;
    await admin.add(dn, { objectClass: ['inetOrgPerson'], uid: 'several', cn: 'Several', sn: 'Several' });
    await admin.modify(dn, [new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: [await hashSecret(tokens[0]!, 'SSHA512'), await hashSecret(tokens[1]!, 'ARGON2ID')] }) })]);
    for (const token of tokens) assert.equal(ldapwhoami(slapd.url, dn, token), true);
  });
});
