// The access rules of ldap/slapd.conf.example, read from that file and loaded into a real slapd
// (with the lastbind overlay), with Tessera's LDAP target binding as the example's provisioning
// account cn=tessera instead of the rootdn (which no rule limits). Shows what the example promises:
// each service's search account searches its own subtree and nothing of another service's, nor
// any password; binds at service entries work (`auth`) and open their own service only; Tessera's
// account still adds the subtree, writes and removes entries, and reads authTimestamp.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Attribute, Change, Client, InsufficientAccessError, NoSuchObjectError, type Entry } from 'ldapts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { PEOPLE, SUFFIX, buildDirectoryCo, buildMember, buildTokenService, issueToken, searchAccountDn, serviceSubtree, withdrawToken, type DirectoryCo } from '../support/integrations.ts';
import { addBindAccount, exampleAccessRules, ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { forEachDialect, useTestApp } from '../support/test-app.ts';

/** The accounts ldap/slapd.conf.example names in its rules. */
const TESSERA_DN = `cn=tessera,${SUFFIX}`;
const LABELS = ['wiki', 'mail'] as const;

let slapd: SlapdInstance;
let root: Client;
const passwords: Record<string, string> = {};

before(async () => {
  const rules = await exampleAccessRules();
  // The example's rules name these; were the file's rules not the ones read, the test would test nothing.
  for (const label of LABELS) assert.match(rules, new RegExp(`access to dn\\.subtree="${serviceSubtree(label)}"`));
  slapd = await startSlapd({ accessRules: rules, lastbind: { precisionSeconds: 0 } });
  assert.equal(slapd.suffix, SUFFIX, 'the example is written for this suffix');
  passwords[TESSERA_DN] = await addBindAccount(slapd, TESSERA_DN);
  for (const label of LABELS) passwords[searchAccountDn(label)] = await addBindAccount(slapd, searchAccountDn(label));
  root = new Client({ url: slapd.url, timeout: 5_000 });
  await root.bind(slapd.rootDn, slapd.rootPassword);
});
after(async () => {
  await root?.unbind().catch(() => undefined);
  await slapd?.stop();
});

/** A client bound as `dn` with its password from `passwords`. */
async function boundAs(dn: string): Promise<Client> {
  const client = new Client({ url: slapd.url, timeout: 5_000 });
  await client.bind(dn, passwords[dn]!);
  return client;
}

/** The entries `client` finds; a base it may not see reads as none (slapd answers noSuchObject, hiding it). */
async function found(client: Client, base: string, filter: string, attributes: string[] = ['*']): Promise<Entry[]> {
  try {
    return (await client.search(base, { scope: 'sub', filter, attributes })).searchEntries;
  } catch (error) {
    if (error instanceof NoSuchObjectError) return [];
    throw error;
  }
}

/** Whether the entry came with a value of the attribute (or of one of its options). ldapts lists a requested attribute the server did not send as []. */
function has(entry: Entry | undefined, attribute: string): boolean {
  const wanted = attribute.toLowerCase();
  return Object.entries(entry ?? {}).some(([name, value]) => (name.toLowerCase() === wanted || name.toLowerCase().startsWith(`${wanted};`)) && (Array.isArray(value) ? value.length > 0 : value !== ''));
}

forEachDialect('the access rules of ldap/slapd.conf.example', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  let co: DirectoryCo;
  const services = { wiki: '', mail: '', files: '', git: '' };

  before(async () => {
    co = await buildDirectoryCo(t, slapd, { dn: TESSERA_DN, password: passwords[TESSERA_DN]! });
    // Wiki and Mail: service entries under the example's subtrees, added by Tessera when missing.
    services.wiki = (await buildTokenService(t, co, { name: 'Wiki', shortLabel: 'wiki', attribute: 'serviceEntries' })).id;
    services.mail = (await buildTokenService(t, co, { name: 'Mail', shortLabel: 'mail', attribute: 'serviceEntries' })).id;
    // Files and Git: tokens in the person's own entry, so it holds passwords to hide.
    services.files = (await buildTokenService(t, co, { name: 'Files', shortLabel: 'files', attribute: 'userPassword' })).id;
    services.git = (await buildTokenService(t, co, { name: 'Git', shortLabel: 'git', attribute: 'voPersonApplicationPassword' })).id;
  });

  /** A person with a token of each service, all written by Tessera's account (every job succeeded). */
  async function personWithTokens() {
    const person = await buildMember(t, co.coId);
    const tokens = {
      wiki: await issueToken(t, co.coId, person.id, services.wiki),
      mail: await issueToken(t, co.coId, person.id, services.mail),
      files: await issueToken(t, co.coId, person.id, services.files),
      git: await issueToken(t, co.coId, person.id, services.git),
    };
    const states = await t.db.selectFrom('provisioning_state').select(['status', 'last_error']).where('person_id', '=', person.id).execute();
    assert.deepEqual(states.map((s) => [s.status, s.last_error]), states.map(() => ['provisioned', null]), 'every target wrote as cn=tessera');
    assert.equal(states.length, 5, 'the person entry and four token targets');
    const dns = { person: `uid=${person.username},${PEOPLE}`, wiki: `uid=${person.username},${serviceSubtree('wiki')}`, mail: `uid=${person.username},${serviceSubtree('mail')}` };
    return { person, tokens, dns };
  }

  it('lets Tessera’s provisioning account add the subtrees, write the entries and remove them', async () => {
    const { person, tokens, dns } = await personWithTokens();
    const seen = async (dn: string, attribute: string) => (await root.search(dn, { scope: 'base', attributes: [attribute] })).searchEntries[0];
    for (const label of LABELS) assert.ok(await seen(serviceSubtree(label), 'ou'), `${serviceSubtree(label)} exists`);
    assert.ok(has(await seen(dns.wiki, 'userPassword'), 'userPassword'));
    assert.ok(has(await seen(dns.person, 'userPassword'), 'userPassword'));
    assert.ok(has(await seen(dns.person, 'voPersonApplicationPassword;app-git'), 'voPersonApplicationPassword'));
    await withdrawToken(t, co.coId, person.id, tokens.mail.id);
    await assert.rejects(root.search(dns.mail, { scope: 'base' }), NoSuchObjectError, 'the Mail entry went with its last token');
    assert.equal(await ldapwhoamiBinds(slapd.url, dns.mail, tokens.mail.secret), false);
  });

  it('lets each service’s search account find its own entries, and nothing of the other service nor any password', async () => {
    const { person, dns } = await personWithTokens();
    const u = person.username;
    const wikiAccount = await boundAs(searchAccountDn('wiki'));
    const mailAccount = await boundAs(searchAccountDn('mail'));
    try {
      // What Apache, Dovecot and FreeRADIUS do: search the service's subtree by uid.
      const own = await found(wikiAccount, serviceSubtree('wiki'), `(uid=${u})`);
      assert.deepEqual(own.map((e) => e.dn), [dns.wiki]);
      assert.equal(own[0]!.uid, u);
      assert.equal(own[0]!.cn, 'Pat Example');
      assert.equal(has(own[0], 'userPassword'), false, 'reads no password, even in its own subtree');
      assert.deepEqual((await found(mailAccount, serviceSubtree('mail'), `(uid=${u})`)).map((e) => e.dn), [dns.mail]);
      // The other service's subtree does not exist for it, by name or from the top.
      assert.deepEqual(await found(wikiAccount, serviceSubtree('mail'), `(uid=${u})`), []);
      assert.deepEqual(await found(mailAccount, serviceSubtree('wiki'), `(uid=${u})`), []);
      assert.deepEqual(
        (await found(wikiAccount, SUFFIX, `(uid=${u})`)).map((e) => e.dn).sort(),
        [dns.person, dns.wiki].sort(),
        'from the suffix: its own entry and the person entry, not the Mail entry',
      );
      // The person entry holds passwords (root sees them); the search account sees none, and cannot test them in a filter.
      const hidden = ['userPassword', 'voPersonApplicationPassword'];
      const [full] = (await root.search(dns.person, { scope: 'base', attributes: hidden })).searchEntries;
      assert.ok(has(full, 'userPassword') && has(full, 'voPersonApplicationPassword'));
      const [visible] = await found(wikiAccount, dns.person, '(objectClass=*)', hidden);
      assert.ok(visible, 'the person entry itself is readable (`by users read`)');
      for (const attribute of hidden) assert.equal(has(visible, attribute), false, `${attribute} hidden`);
      assert.deepEqual(await found(wikiAccount, PEOPLE, `(&(uid=${u})(userPassword=*))`), []);
      // Search, not write.
      await assert.rejects(wikiAccount.modify(dns.wiki, [new Change({ operation: 'replace', modification: new Attribute({ type: 'cn', values: ['Changed'] }) })]), InsufficientAccessError);
      assert.equal((await root.search(dns.wiki, { scope: 'base', attributes: ['cn'] })).searchEntries[0]?.cn, 'Pat Example');
    } finally {
      await wikiAccount.unbind();
      await mailAccount.unbind();
    }
  });

  it('lets anyone bind at a service entry with that service’s token only (auth), and Tessera read the time of the bind', async () => {
    const { person, tokens, dns } = await personWithTokens();
    const matrix = {
      wiki: [await ldapwhoamiBinds(slapd.url, dns.wiki, tokens.wiki.secret), await ldapwhoamiBinds(slapd.url, dns.mail, tokens.wiki.secret), await ldapwhoamiBinds(slapd.url, dns.person, tokens.wiki.secret)],
      mail: [await ldapwhoamiBinds(slapd.url, dns.wiki, tokens.mail.secret), await ldapwhoamiBinds(slapd.url, dns.mail, tokens.mail.secret), await ldapwhoamiBinds(slapd.url, dns.person, tokens.mail.secret)],
      files: [await ldapwhoamiBinds(slapd.url, dns.wiki, tokens.files.secret), await ldapwhoamiBinds(slapd.url, dns.mail, tokens.files.secret), await ldapwhoamiBinds(slapd.url, dns.person, tokens.files.secret)],
    };
    assert.deepEqual(matrix, { wiki: [true, false, false], mail: [false, true, false], files: [false, false, true] });
    // The overlay wrote authTimestamp; Tessera reads it with cn=tessera (the example: "covered by write").
    const task = t.registry.plugins.flatMap((p) => p.parts.periodic ?? []).find((p) => p.name === 'ldap-last-bind');
    assert.ok(task);
    await task.run();
    const rows = await t.db.selectFrom('service_token_external_use').select(['service_id', 'source']).where('person_id', '=', person.id).execute();
    assert.deepEqual(rows.map((r) => [r.service_id, r.source]).sort(), [[services.mail, 'ldap'], [services.wiki, 'ldap']].sort());
  });
});
