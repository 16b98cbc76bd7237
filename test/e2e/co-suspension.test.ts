// End to end: suspending a CO stops everything of it — its tokens no longer bind in a real slapd
// nor verify, its API users are refused, its CO admins administer nothing — while platform admins
// still act; reactivating brings back what was not revoked or expired meanwhile. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { ensurePlatformCo, updateCo } from '../../src/core/cos/co.service.ts';
import { newId } from '../../src/db/ids.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { revokeServiceToken } from '../../src/plugins/service-tokens/tokens/token-revocation.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';
import { startSlapd, type SlapdInstance, ldapwhoamiBinds } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { actorFor, buildApiUser, buildCo, buildPerson, createTestApp, forEachDialect, signIn, type TestApp } from '../support/test-app.ts';
import { addLdapServer } from '../support/ldap-servers.ts';

const LDAPWHOAMI = '/usr/bin/ldapwhoami';
const PEOPLE = 'ou=people,dc=example,dc=org';

forEachDialect('CO suspension', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;

  before(async () => {
    requireCommand(LDAPWHOAMI, 'ldap-utils');
    slapd = await startSlapd();
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  });
  after(async () => {
    await t?.close();
    await slapd?.stop();
  });

  const binds = (dn: string, password: string) => ldapwhoamiBinds(slapd.url, dn, password);

  it('stops tokens in LDAP and at verification, API users and CO admins; reactivation restores what was not revoked', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { storageScheme: 'SSHA512', maxTokensPerPerson: 3 });
    const api = await buildApiUser(t, co.id, true);
    const create = async (body: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${co.id}/provisioning-targets`, headers: { authorization: api.authorization }, payload: body });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string };
    };
    const ldap = await create({ provisionerType: 'ldap', description: 'Directory', ordinal: 10, config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE } });
    await create({ provisionerType: 'ldap-service-token', description: 'Tokens', ordinal: 20, config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' } });

    const person = await buildPerson(t, co.id, { given: 'Sam', family: 'Pended' });
    const dn = buildDn('uid', person.username, PEOPLE);
    const coAdmin = await buildPerson(t, co.id, { admin: true });
    const platform = await ensurePlatformCo(t.ctx);
    const platformAdmin = await buildPerson(t, platform.id, { admin: true, username: `root-${newId().slice(0, 6)}` });
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'mail server');
    const kept = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'kept' });
    const revoked = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'revoked meanwhile' });
    await t.worker.drain();

    const verify = async (secret: string) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier: person.username, token: secret } });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { valid: boolean }).valid;
    };
    const apiStatus = async () => (await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/people`, headers: { authorization: api.authorization } })).statusCode;
    const pageStatus = async (username: string) => (await t.app.inject({ method: 'GET', url: `/cos/${co.id}/people`, headers: (await signIn(t, username)).headers })).statusCode;

    assert.equal(await binds(dn, kept.secret), true);
    assert.equal(await binds(dn, revoked.secret), true);
    assert.equal(await verify(kept.secret), true);
    assert.equal(await apiStatus(), 200);
    assert.equal(await pageStatus(coAdmin.username), 200);

    // Only a platform admin may suspend; it is a change for every person of the CO.
    await updateCo(t.ctx, await actorFor(t, platformAdmin.username), co.id, { status: 'suspended' });
    await t.worker.drain();
    assert.equal(await binds(dn, kept.secret), false, 'the token values left the directory');
    assert.equal(await binds(dn, revoked.secret), false);
    assert.equal(await verify(kept.secret), false, 'verification refuses');
    assert.equal(await apiStatus(), 401, "the CO's API users are refused");
    assert.equal(await pageStatus(coAdmin.username), 403, "the CO's admins administer nothing");
    const suspendedAdmin = await actorFor(t, coAdmin.username);
    assert.ok(suspendedAdmin.kind === 'person' && !suspendedAdmin.adminOf.has(co.id) && suspendedAdmin.personIds[co.id] === coAdmin.id, 'still a person of the CO, no longer its admin');
    assert.equal(await pageStatus(platformAdmin.username), 200, 'platform admins still act');
    await assert.rejects(
      generateServiceToken(tokenContext(t), suspendedAdmin, co.id, person.id, { serviceId: service.id, label: 'during' }),
      (e: { code?: string }) => e.code === 'PERSON_NOT_FOUND',
      'the CO admin no longer reaches other people of the CO',
    );
    await assert.rejects(generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'during' }), (e: { code?: string }) => e.code === 'CO_SUSPENDED');

    // Revoked while suspended: stays gone after reactivation.
    await revokeServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, revoked.token.id);
    await updateCo(t.ctx, await actorFor(t, platformAdmin.username), co.id, { status: 'active' });
    await t.worker.drain();
    assert.equal(await binds(dn, kept.secret), true, 'the kept token binds again');
    assert.equal(await binds(dn, revoked.secret), false, 'the token revoked meanwhile does not');
    assert.equal(await verify(kept.secret), true);
    assert.equal(await verify(revoked.secret), false);
    assert.equal(await apiStatus(), 200);
    assert.equal(await pageStatus(coAdmin.username), 200);
  });
});
