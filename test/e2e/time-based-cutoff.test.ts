// Time-based transitions reach the directory: a membership of a service's group whose window closes
// (validThrough passes) or opens (validFrom arrives), and a token whose expiry passes, change what
// slapd accepts once the periodic sweeps and the worker have run, and the directory and the
// verification API then give the same answer. Runs on SQLite and PostgreSQL against a real slapd.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { groupInput } from '../../src/core/groups/group.schema.ts';
import { addMembership, createGroup } from '../../src/core/groups/group.service.ts';
import { MEMBERSHIP_WINDOW_SWEEP_MS, sweepMembershipWindows } from '../../src/core/groups/membership-window.sweep.ts';
import { targetInput } from '../../src/core/provisioning/target.schema.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { sweepExpiredTokens } from '../../src/plugins/service-tokens/tokens/token-expiry.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';
import { startSlapd, type SlapdInstance, ldapwhoamiBinds } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildCo, buildPerson, createTestApp, forEachDialect, type TestApp } from '../support/test-app.ts';
import { addLdapServer } from '../support/ldap-servers.ts';

const LDAPWHOAMI = '/usr/bin/ldapwhoami';
const PEOPLE = 'ou=people,dc=example,dc=org';

forEachDialect('Time-based cut-off reaches the directory', (dialect) => {
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

  /**
   * A CO whose token-enabled service is restricted to a group, an LDAP target and a token target
   * on slapd, a verification key, and a person with a token and a membership of the group valid
   * in the window given.
   */
  async function scenario(window: { validFrom?: string; validThrough?: string }) {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Cluster users' }));
    const service = await buildService(t, co.id, { coGroupId: group.id });
    await enableTokens(t, co.id, service.id);
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, targetInput.parse({
      provisionerType: 'ldap', description: 'Directory', ordinal: 10,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE, eduMember: true },
    }));
    await createTarget(t.ctx, SYSTEM_ACTOR, co.id, targetInput.parse({
      provisionerType: 'ldap-service-token', description: 'Tokens', ordinal: 20,
      config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' },
    }));
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'cluster login');
    const person = await buildPerson(t, co.id);
    // The membership starts valid now so that the token can be generated; the window under test is set after.
    const membership = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: person.id, member: true, owner: false });
    const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'laptop' });
    await t.db.updateTable('co_group_member').set({ valid_from: window.validFrom ?? null, valid_through: window.validThrough ?? null }).where('id', '=', membership.id).execute();
    return { co, person, secret, key, dn: buildDn('uid', person.username, PEOPLE) };
  }

  async function verifies(key: string, identifier: string, token: string): Promise<boolean> {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier, token } });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { valid: boolean }).valid;
  }

  /** What one period of the background runtime does: the sweeps, then the worker. */
  async function sweepAndWork(): Promise<void> {
    await sweepMembershipWindows(t.ctx);
    await sweepExpiredTokens(tokenContext(t));
    await t.worker.drain();
  }

  it('removes the token from the directory once a membership window closes, as verification refuses it', async () => {
    const inAMinute = new Date(t.clock.now().getTime() + 60_000).toISOString();
    const s = await scenario({ validThrough: inAMinute });
    await sweepAndWork();
    assert.equal(await binds(s.dn, s.secret), true, 'binds while the membership is valid');
    assert.equal(await verifies(s.key, s.person.username, s.secret), true);

    t.clock.advance(60_000 + MEMBERSHIP_WINDOW_SWEEP_MS);
    assert.equal(await verifies(s.key, s.person.username, s.secret), false, 'verification refuses at once');
    await sweepAndWork();
    assert.equal(await binds(s.dn, s.secret), false, 'the directory refuses too after one sweep');
  });

  it('writes the token once a membership window opens, as verification accepts it', async () => {
    const inAMinute = new Date(t.clock.now().getTime() + 60_000).toISOString();
    const s = await scenario({ validFrom: inAMinute });
    await sweepAndWork();
    assert.equal(await binds(s.dn, s.secret), false, 'no bind before the window opens');
    assert.equal(await verifies(s.key, s.person.username, s.secret), false);

    t.clock.advance(60_000 + MEMBERSHIP_WINDOW_SWEEP_MS);
    assert.equal(await verifies(s.key, s.person.username, s.secret), true);
    await sweepAndWork();
    assert.equal(await binds(s.dn, s.secret), true, 'binds after one sweep');
  });

  it('catches up after downtime: transitions since the last sweep are all handled by the next', async () => {
    const now = t.clock.now().getTime();
    const closing = await scenario({ validThrough: new Date(now + 5 * 60_000).toISOString() });
    const opening = await scenario({ validFrom: new Date(now + 10 * 60_000).toISOString() });
    await sweepAndWork();
    assert.equal(await binds(closing.dn, closing.secret), true);
    assert.equal(await binds(opening.dn, opening.secret), false);
    // Three hours without any sweep (the process was down), then one sweep.
    t.clock.advance(3 * 3_600_000);
    await sweepAndWork();
    assert.equal(await binds(closing.dn, closing.secret), false);
    assert.equal(await binds(opening.dn, opening.secret), true);
    const mark = await t.db.selectFrom('sweep_mark').select('swept_through').where('name', '=', 'membership-windows').executeTakeFirstOrThrow();
    assert.equal(mark.swept_through, t.clock.now().toISOString(), 'the sweep remembers how far it got');
    // A second sweep over the same time writes nothing new.
    assert.equal(await sweepMembershipWindows(t.ctx), 0);
  });

  it('removes an expired token from the directory within one sweep of its expiry', async () => {
    const s = await scenario({});
    const co = s.co;
    const services = await t.db.selectFrom('co_service').select('id').where('co_id', '=', co.id).execute();
    const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, s.person.id, { serviceId: services[0]!.id, label: 'short-lived', lifetimeDays: 1 });
    await sweepAndWork();
    assert.equal(await binds(s.dn, secret), true);
    t.clock.advance(86_400_000 + 1_000);
    assert.equal(await verifies(s.key, s.person.username, secret), false);
    await sweepAndWork();
    assert.equal(await binds(s.dn, secret), false, 'the expired token no longer binds');
    assert.equal(await binds(s.dn, s.secret), true, 'the other token still does');
  });
});
