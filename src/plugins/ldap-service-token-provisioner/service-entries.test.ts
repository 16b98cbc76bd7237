// Service entries against a real slapd with the lastbind overlay, driven through the whole app
// (services, tokens, the worker): each token opens only its own service's entry, and every path
// that cuts a token off removes its hash from the service entry (the entry with it).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Client, InvalidCredentialsError } from 'ldapts';
import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import { deleteService, setServiceStatus } from '../../core/co-services/co-service.service.ts';
import { addMembership, createGroup, removeMembership } from '../../core/groups/group.service.ts';
import { groupInput, membershipInput } from '../../core/groups/group.schema.ts';
import { addEmail, addIdentifier, deletePerson, removeIdentifier, setPersonStatus } from '../../core/people/person.service.ts';
import { createTarget } from '../../core/provisioning/target.service.ts';
import { targetInput } from '../../core/provisioning/target.schema.ts';
import { buildDirectoryCo, buildMember, issueToken, PEOPLE, SUFFIX, withdrawToken, type DirectoryCo } from '../../../test/support/integrations.ts';
import { startSlapd, type SlapdInstance } from '../../../test/support/slapd.ts';
import { buildApiUser, buildPerson, forEachDialect, signIn, useTestApp, type TestApp } from '../../../test/support/test-app.ts';
import type { LdapProvisionerTables } from '../ldap-provisioner/ldap-entry-claim.table.ts';
import { ldapProvisionerPlugin } from '../ldap-provisioner/ldap-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../service-tokens/tokens/service-token.service.ts';
import { sweepExpiredTokens } from '../service-tokens/tokens/token-expiry.service.ts';
import { ldapServiceTokenProvisionerPlugin } from './ldap-service-token-provisioner.plugin.ts';

const DAY = 86_400_000;
let slapd: SlapdInstance;
let root: Client;

before(async () => {
  slapd = await startSlapd({ lastbind: { precisionSeconds: 0 } });
  root = new Client({ url: slapd.url, timeout: 5_000 });
  await root.bind(slapd.rootDn, slapd.rootPassword);
});
after(async () => {
  await root?.unbind().catch(() => undefined);
  await slapd?.stop();
});

/** Does a simple bind as `dn` with `password` succeed? Any other failure than invalid credentials throws. */
async function binds(url: string, dn: string, password: string): Promise<boolean> {
  const client = new Client({ url, timeout: 5_000 });
  try {
    await client.bind(dn, password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

async function exists(dn: string): Promise<boolean> {
  try {
    await root.search(dn, { scope: 'base', attributes: ['1.1'] });
    return true;
  } catch {
    return false;
  }
}

async function passwords(dn: string): Promise<string[]> {
  const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['userPassword'] });
  const v = searchEntries[0]?.userPassword;
  return (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(String).sort();
}

/** A token-enabled service whose tokens go to service entries under ou=<label>,ou=services. */
async function serviceWithEntries(t: TestApp, co: DirectoryCo, name: string, opts: { config?: Record<string, unknown>; coGroupId?: string; maxLifetimeDays?: number } = {}) {
  const label = `${name.toLowerCase()}${Math.random().toString(36).slice(2, 6)}`;
  const service = await buildService(t, co.coId, { name, shortLabel: label, ...(opts.coGroupId ? { coGroupId: opts.coGroupId } : {}) });
  await enableTokens(t, co.coId, service.id, { storageScheme: 'SSHA512', maxTokensPerPerson: 3, maxLifetimeDays: opts.maxLifetimeDays ?? null });
  const base = `ou=${label},ou=services,${SUFFIX}`;
  await createTarget(
    t.ctx,
    SYSTEM_ACTOR,
    co.coId,
    targetInput.parse({
      provisionerType: 'ldap-service-token',
      description: `${name} entries`,
      ordinal: 20,
      retryIntervalSeconds: 30,
      config: { ldapTargetId: co.ldapTargetId, serviceId: service.id, attribute: 'serviceEntries', serviceBaseDn: base, createServiceSubtree: true, ...opts.config },
    }),
  );
  return { service, base, entryOf: (uid: string) => `uid=${uid},${base}` };
}

forEachDialect('service entries in slapd', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  let co: DirectoryCo;
  before(async () => {
    co = await buildDirectoryCo(t, slapd);
  });

  it('opens each service with its own tokens only: the whole matrix of tokens, service entries and the person entry', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki');
    const mail = await serviceWithEntries(t, co, 'Mail');
    const alice = await buildMember(t, co.coId);
    const wikiToken = await issueToken(t, co.coId, alice.id, wiki.service.id, 'wiki');
    const mailToken = await issueToken(t, co.coId, alice.id, mail.service.id, 'mail');
    const entries = { wiki: wiki.entryOf(alice.username), mail: mail.entryOf(alice.username), person: `uid=${alice.username},${PEOPLE}` };
    const tokens = { wiki: wikiToken.secret, mail: mailToken.secret };
    const matrix: Record<string, Record<string, boolean>> = {};
    for (const [tokenName, secret] of Object.entries(tokens)) {
      matrix[tokenName] = {};
      for (const [entryName, dn] of Object.entries(entries)) matrix[tokenName]![entryName] = await binds(slapd.url, dn, secret);
    }
    assert.deepEqual(matrix, {
      wiki: { wiki: true, mail: false, person: false },
      mail: { wiki: false, mail: true, person: false },
    });
    // The entry holds what a bind client searches on, and nothing of the other service.
    const { searchEntries } = await root.search(entries.wiki, { scope: 'base', attributes: ['uid', 'cn', 'sn', 'objectClass', 'userPassword'] });
    assert.equal(searchEntries[0]?.uid, alice.username);
    assert.equal(searchEntries[0]?.cn, 'Pat Example');
    assert.equal((await passwords(entries.wiki)).length, 1);
  });

  it('shows a bind at the service entry as the last use via LDAP, per person and service, in the API and on the token page', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki');
    const mail = await serviceWithEntries(t, co, 'Mail');
    const ivy = await buildMember(t, co.coId);
    const wikiToken = await issueToken(t, co.coId, ivy.id, wiki.service.id);
    await issueToken(t, co.coId, ivy.id, mail.service.id);
    const before = Date.now();
    assert.equal(await binds(slapd.url, wiki.entryOf(ivy.username), wikiToken.secret), true);
    const task = t.registry.plugins.flatMap((p) => p.parts.periodic ?? []).find((p) => p.name === 'ldap-last-bind');
    assert.ok(task, 'the plugin reads last binds periodically');
    await task.run();
    const rows = await t.db.selectFrom('service_token_external_use').selectAll().where('person_id', '=', ivy.id).execute();
    assert.deepEqual(rows.map((r) => [r.service_id, r.source]), [[wiki.service.id, 'ldap']], 'the Wiki bind only');
    const at = Date.parse(rows[0]!.last_used_at);
    assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= Date.now(), `authTimestamp ${rows[0]!.last_used_at} is the bind's time (to the second)`);
    const api = await buildApiUser(t, co.coId, true);
    const response = await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.coId}/people/${ivy.id}/service-tokens`, headers: { authorization: api.authorization } });
    assert.equal(response.statusCode, 200, response.body);
    const listed = (response.json() as { tokens: Array<{ serviceId: string; lastUsedViaLdap: string | null }> }).tokens;
    assert.deepEqual(listed.map((x) => [x.serviceId === wiki.service.id ? 'wiki' : 'mail', x.lastUsedViaLdap]).sort(), [['mail', null], ['wiki', rows[0]!.last_used_at]]);
    const browser = await signIn(t, ivy.username);
    const page = await t.app.inject({ method: 'GET', url: `/cos/${co.coId}/people/${ivy.id}/service-tokens`, headers: browser.headers });
    assert.equal(page.statusCode, 200);
    assert.equal(page.body.match(/Last used via LDAP/g)?.length, 1, 'under the Wiki only');
    // A second round with no new bind changes nothing.
    await task.run();
    const again = await t.db.selectFrom('service_token_external_use').select('last_used_at').where('person_id', '=', ivy.id).execute();
    assert.deepEqual(again.map((r) => r.last_used_at), [rows[0]!.last_used_at]);
  });

  it('removes the hash, and the entry with the last one, on revocation and expiry', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki', { maxLifetimeDays: 30 });
    const bob = await buildMember(t, co.coId);
    const dn = wiki.entryOf(bob.username);
    const first = await issueToken(t, co.coId, bob.id, wiki.service.id, 'one');
    const { token: second, secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.coId, bob.id, { serviceId: wiki.service.id, label: 'two', lifetimeDays: 1 });
    await t.worker.drain();
    assert.equal((await passwords(dn)).length, 2);
    await withdrawToken(t, co.coId, bob.id, first.id);
    assert.equal((await passwords(dn)).length, 1);
    assert.equal(await binds(slapd.url, dn, first.secret), false);
    assert.equal(await binds(slapd.url, dn, secret), true);
    t.clock.advance(DAY + 1000);
    await sweepExpiredTokens(tokenContext(t));
    await t.worker.drain();
    assert.equal(await exists(dn), false, `expiry of ${second.id} removed the entry`);
  });

  it('removes the entry while the person is suspended, and brings it back', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki');
    const carol = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, carol.id, wiki.service.id);
    const dn = wiki.entryOf(carol.username);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.coId, carol.id, 'suspended');
    await t.worker.drain();
    assert.equal(await exists(dn), false);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.coId, carol.id, 'active');
    await t.worker.drain();
    assert.equal(await binds(slapd.url, dn, token.secret), true);
  });

  it('follows the service’s group and its validity window', async () => {
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.coId, groupInput.parse({ name: `wiki-users-${Math.random().toString(36).slice(2, 6)}` }));
    const wiki = await serviceWithEntries(t, co, 'Wiki', { coGroupId: group.id, config: { serviceEntryGroup: true } });
    const dave = await buildMember(t, co.coId);
    const membership = await addMembership(t.ctx, SYSTEM_ACTOR, co.coId, group.id, membershipInput.parse({ personId: dave.id }));
    const token = await issueToken(t, co.coId, dave.id, wiki.service.id);
    const dn = wiki.entryOf(dave.username);
    const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['isMemberOf'] });
    assert.equal(searchEntries[0]?.isMemberOf, group.name);
    await removeMembership(t.ctx, SYSTEM_ACTOR, co.coId, group.id, membership.id);
    await t.worker.drain();
    assert.equal(await exists(dn), false, 'left the group');
    // Back with a membership valid for one day: the entry comes back, and goes when the day is over.
    const until = new Date(t.clock.now().getTime() + DAY).toISOString();
    await addMembership(t.ctx, SYSTEM_ACTOR, co.coId, group.id, membershipInput.parse({ personId: dave.id, validThrough: until }));
    await t.worker.drain();
    assert.equal(await binds(slapd.url, dn, token.secret), true);
    t.clock.advance(DAY + 1000);
    // Nothing in Tessera wakes at a window's end; the next change to the person provisions them.
    await addEmail(t.ctx, SYSTEM_ACTOR, co.coId, dave.id, { mail: `${dave.username}@example.org`, type: 'official', verified: false });
    await t.worker.drain();
    assert.equal(await exists(dn), false, 'membership ran out');
  });

  it('moves the entry when the naming identifier changes, and removes it with the person', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki');
    const erin = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, erin.id, wiki.service.id);
    const renamed = `${erin.username}-new`;
    await addIdentifier(t.ctx, SYSTEM_ACTOR, co.coId, erin.id, { identifier: renamed, type: 'uid', login: true });
    const old = erin.identifiers.find((i) => i.identifier === erin.username)!;
    await removeIdentifier(t.ctx, SYSTEM_ACTOR, co.coId, erin.id, old.id);
    await t.worker.drain();
    assert.equal(await exists(wiki.entryOf(erin.username)), false);
    assert.equal(await binds(slapd.url, wiki.entryOf(renamed), token.secret), true);
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.coId, erin.id);
    await t.worker.drain();
    assert.equal(await exists(wiki.entryOf(renamed)), false);
  });

  it('removes the entries when the service is suspended or deleted', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki');
    const frank = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, frank.id, wiki.service.id);
    const dn = wiki.entryOf(frank.username);
    await setServiceStatus(t.ctx, SYSTEM_ACTOR, co.coId, wiki.service.id, 'suspended');
    await t.worker.drain();
    assert.equal(await exists(dn), false, 'suspended');
    await setServiceStatus(t.ctx, SYSTEM_ACTOR, co.coId, wiki.service.id, 'active');
    await t.worker.drain();
    assert.equal(await binds(slapd.url, dn, token.secret), true);
    await deleteService(t.ctx, SYSTEM_ACTOR, co.coId, wiki.service.id);
    await t.worker.drain();
    assert.equal(await exists(dn), false, 'deleted');
  });

  it('keeps an entry while the person may use the service, when chosen, and never takes over an entry it did not make', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki', { config: { serviceEntryWhile: 'mayUseService' } });
    const gina = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, gina.id, wiki.service.id);
    const dn = wiki.entryOf(gina.username);
    await withdrawToken(t, co.coId, gina.id, token.id);
    assert.equal(await exists(dn), true, 'no token, still allowed');
    assert.deepEqual(await passwords(dn), []);
    // An entry made by hand where Hank's would go: Tessera refuses to write into it.
    const hankName = `hank-${Math.random().toString(36).slice(2, 8)}`;
    await root.add(`uid=${hankName},${wiki.base}`, { objectClass: ['inetOrgPerson'], uid: hankName, cn: 'Hand made', sn: 'Made', userPassword: 'kept' });
    const hank = await buildPerson(t, co.coId, { username: hankName });
    await t.worker.drain();
    const state = await t.db.selectFrom('provisioning_state').select(['status', 'last_error']).where('person_id', '=', hank.id).where('target_key', 'is', null).execute();
    assert.ok(state.some((s) => s.status === 'failed' && /exists already and was not made by Tessera/.test(s.last_error ?? '')), JSON.stringify(state));
    assert.equal(await binds(slapd.url, `uid=${hankName},${wiki.base}`, 'kept'), true, 'left as it was');
  });

  it('writes nothing outside the subtrees its LDAP server may write, when the platform shrinks them after the target was made', async () => {
    const wiki = await serviceWithEntries(t, co, 'Wiki');
    const ivan = await buildMember(t, co.coId);
    await issueToken(t, co.coId, ivan.id, wiki.service.id);
    const dn = wiki.entryOf(ivan.username);
    const before = await passwords(dn);
    assert.equal(before.length, 1);
    const ldapTarget = await t.db.selectFrom('provisioning_target').select('config').where('id', '=', co.ldapTargetId).executeTakeFirstOrThrow();
    const serverId = (JSON.parse(ldapTarget.config) as { serverId: string }).serverId;
    const servers = t.db.withTables<LdapProvisionerTables>();
    const subtrees = await servers.selectFrom('ldap_server').select('subtrees').where('id', '=', serverId).executeTakeFirstOrThrow();
    await servers.updateTable('ldap_server').set({ subtrees: JSON.stringify([PEOPLE]) }).where('id', '=', serverId).execute();
    try {
      await issueToken(t, co.coId, ivan.id, wiki.service.id, 'second');
      // Every service-entry target of this CO is now outside; the first of Ivan's jobs says why, the others wait for it.
      const jobs = await t.db.selectFrom('provisioning_job').select('last_error').where('person_id', '=', ivan.id).where('last_error', 'is not', null).execute();
      assert.ok(jobs.some((j) => /the service subtree ou=wiki\w+,ou=services,dc=example,dc=org of token target "\w+ entries" lies outside the subtrees its LDAP server may write \(ou=people,dc=example,dc=org\); nothing was written/.test(j.last_error ?? '')), JSON.stringify(jobs));
      assert.deepEqual(await passwords(dn), before, 'the entry is as it was: the second token is not in it');
    } finally {
      await servers.updateTable('ldap_server').set({ subtrees: subtrees.subtrees }).where('id', '=', serverId).execute();
    }
  });
});
