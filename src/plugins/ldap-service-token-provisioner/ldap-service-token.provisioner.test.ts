// The token provisioner against a real slapd, after the LDAP provisioner made the entry: which
// values it writes and withdraws, that it leaves other values alone, and what each case costs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { startSlapd, type SlapdInstance } from '../../../test/support/slapd.ts';
import type { Target } from '../../core/provisioning/provisioner.ts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { newId } from '../../db/ids.ts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { ldapProvisioner } from '../ldap-provisioner/ldap.provisioner.ts';
import { ldapSettings, monitorConfig, operationsDuring, personData, StateKeeper, targetOf } from '../ldap-provisioner/ldap-provisioner.test-support.ts';
import type { ServiceTokenTables } from '../service-tokens/service-token.table.ts';
import type { UsableToken } from '../service-tokens/service-tokens.plugin.ts';
import { ldapServiceTokenConfigSchema, type LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';
import { ldapServiceTokenProvisioner } from './ldap-service-token.provisioner.ts';
import { tokenAttributeContributor } from './ldap-token-contributor.ts';
import type { ProvisionedToken } from './provisioned-tokens.ts';

const NO_OPS = { bind: 0, search: 0, add: 0, modify: 0, modrdn: 0, delete: 0 };
/** An LDAP provisioner no plugin contributes to: the token target writes every value itself. */
const ldap = ldapProvisioner();
const runLdap = ldap.provision.bind(ldap);
/** An LDAP provisioner with the token provisioner's contributor registered, as the plugins set it up. */
const contributingLdap = ldapProvisioner([tokenAttributeContributor]);
const tokenProvisioner = ldapServiceTokenProvisioner((db) => db.withTables<ServiceTokenTables>());
const runTokenTarget = tokenProvisioner.provision.bind(tokenProvisioner);

describe('LDAP service token provisioner against slapd', () => {
  let slapd: SlapdInstance;
  let root: Client;
  let ldapTarget: Target<LdapConfig>;

  before(async () => {
    slapd = await startSlapd({ extraConfig: monitorConfig('cn=admin,dc=example,dc=org') });
    root = new Client({ url: slapd.url, timeout: 5_000 });
    await root.bind(slapd.rootDn, slapd.rootPassword);
    ldapTarget = targetOf('ldap', ldapSettings({ url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, baseDn: 'ou=people,dc=example,dc=org' }), { ordinal: 10 });
  });
  after(async () => {
    await root?.unbind().catch(() => undefined);
    await slapd?.stop();
  });

  const serviceId = newId();
  function tokenTarget(overrides: Partial<LdapServiceTokenConfig> = {}, service = serviceId): Target<LdapServiceTokenConfig> {
    return targetOf('ldap-service-token', ldapServiceTokenConfigSchema.parse({ ldapTargetId: ldapTarget.id, serviceId: service, ...overrides }), { ordinal: 20, coId: ldapTarget.coId });
  }
  function token(hash: string, service = serviceId, label = 'wiki'): ProvisionedToken {
    return { id: newId(), serviceId: service, serviceShortLabel: label, hash, storageScheme: 'SSHA512', expiresAt: null };
  }
  function withTokens(data: ProvisioningData, tokens: ProvisionedToken[]): ProvisioningData {
    return { ...data, plugins: { 'service-tokens': { tokens } } };
  }
  async function values(dn: string, attribute = 'userPassword'): Promise<string[]> {
    const { searchEntries } = await root.search(dn, { scope: 'base', attributes: [attribute] });
    const v = Object.entries(searchEntries[0] ?? {}).find(([k]) => k.toLowerCase() === attribute.toLowerCase())?.[1];
    return (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(String).sort();
  }

  /** Runs both targets for the person, as the worker does: the LDAP target first. */
  async function runBoth(keeper: StateKeeper, target: Target<LdapServiceTokenConfig>, data: ProvisioningData | undefined, intent: 'present' | 'absent' = 'present', ldapType = ldap) {
    const targets = [ldapTarget, target] as Target[];
    await keeper.run(ldapType.provision.bind(ldapType), ldapTarget, targets, intent, data);
    return keeper.run(runTokenTarget, target, targets, intent, data);
  }
  const runTokens = (keeper: StateKeeper, target: Target<LdapServiceTokenConfig>, data: ProvisioningData | undefined, intent: 'present' | 'absent' = 'present') =>
    keeper.run(runTokenTarget, target, [ldapTarget, target] as Target[], intent, data);

  it('writes the hashes with one modify, then costs nothing until something changes', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}one'), token('{SSHA512}other-service', newId())]);
    await keeper.run(runLdap, ldapTarget, [ldapTarget, t] as Target[], 'present', data);
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    let result;
    const first = await operationsDuring(slapd, async () => {
      result = await runTokens(keeper, t, data);
    });
    assert.deepEqual(first, { ...NO_OPS, bind: 1, modify: 1 });
    assert.deepEqual(result, { status: 'provisioned', targetKey: dn, detail: { attribute: 'userPassword', values: ['{SSHA512}one'], entry: keeper.states.get(ldapTarget.id)!.detail.entry } });
    assert.deepEqual(await values(dn), ['{SSHA512}one'], 'only this service’s token');

    assert.deepEqual(await operationsDuring(slapd, () => runTokens(keeper, t, data)), NO_OPS);

    const two = withTokens(data, [token('{SSHA512}one'), token('{SSHA512}two')]);
    assert.deepEqual(await operationsDuring(slapd, () => runTokens(keeper, t, two)), { ...NO_OPS, bind: 1, modify: 1 });
    assert.deepEqual(await values(dn), ['{SSHA512}one', '{SSHA512}two']);

    const revoked = withTokens(data, [token('{SSHA512}two')]);
    assert.deepEqual(await operationsDuring(slapd, () => runTokens(keeper, t, revoked)), { ...NO_OPS, bind: 1, modify: 1 });
    assert.deepEqual(await values(dn), ['{SSHA512}two']);
  });

  it('takes the values its contributor put into a new entry as its own: one add in all', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}seeded')]);
    const ops = await operationsDuring(slapd, () => runBoth(keeper, t, data, 'present', contributingLdap));
    assert.deepEqual(ops, { ...NO_OPS, bind: 1, add: 1, search: 1 }, 'one add (and the search reading its entryUUID back); the token target does not even connect');
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    assert.deepEqual(await values(dn), ['{SSHA512}seeded']);
    assert.deepEqual(keeper.states.get(t.id)!.detail, { attribute: 'userPassword', values: ['{SSHA512}seeded'], entry: keeper.states.get(ldapTarget.id)!.detail.entry });
    // The contributed values are then this target's like any other: a revocation withdraws them.
    await runBoth(keeper, t, withTokens(data, []), 'present', contributingLdap);
    assert.deepEqual(await values(dn), []);
  });

  it('reconciles contributed values that no longer match what it wants', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}now')]);
    const stale = ldapProvisioner([{ attributesFor: () => [{ sourceTargetId: t.id, attribute: 'userPassword', values: ['{SSHA512}stale'] }] }]);
    await runBoth(keeper, t, data, 'present', stale);
    assert.deepEqual(await values(keeper.states.get(ldapTarget.id)!.targetKey!), ['{SSHA512}now']);
  });

  it('leaves values it did not write alone, even in the same attribute', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}mine')]);
    await runBoth(keeper, t, data);
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    await root.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: ['{SSHA512}theirs'] }) }));
    await runBoth(keeper, t, withTokens(data, [token('{SSHA512}new')]));
    assert.deepEqual(await values(dn), ['{SSHA512}new', '{SSHA512}theirs']);
    await runBoth(keeper, t, withTokens(data, []));
    assert.deepEqual(await values(dn), ['{SSHA512}theirs']);
    assert.equal(keeper.states.get(t.id)!.status, 'provisioned', 'in sync: the entry holds all (none) of the person’s tokens');
  });

  it('reads and reconciles when the entry does not hold what it recorded', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}a'), token('{SSHA512}b')]);
    await runBoth(keeper, t, data);
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    // Someone removed "a" by hand; then "a" is revoked: the delete finds no such value.
    await root.modify(dn, new Change({ operation: 'delete', modification: new Attribute({ type: 'userPassword', values: ['{SSHA512}a'] }) }));
    const ops = await operationsDuring(slapd, () => runTokens(keeper, t, withTokens(data, [token('{SSHA512}b'), token('{SSHA512}c')])));
    assert.deepEqual(ops, { ...NO_OPS, bind: 1, modify: 2, search: 1 }, 'a failed modify, a read, a modify');
    assert.deepEqual(await values(dn), ['{SSHA512}b', '{SSHA512}c']);
  });

  it('adds the tokens again when the LDAP target made the entry anew', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}kept')]);
    await runBoth(keeper, t, data);
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    await root.del(dn);
    await runBoth(keeper, t, data);
    assert.deepEqual(await values(dn), ['{SSHA512}kept']);
  });

  it('takes over an entry that holds its value already (no record): add fails, read, nothing to write', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}there')]);
    await keeper.run(runLdap, ldapTarget, [ldapTarget, t] as Target[], 'present', data);
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    await root.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type: 'userPassword', values: ['{SSHA512}there'] }) }));
    const ops = await operationsDuring(slapd, () => runTokens(keeper, t, data));
    assert.deepEqual(ops, { ...NO_OPS, bind: 1, modify: 1, search: 1 });
    assert.deepEqual(await values(dn), ['{SSHA512}there']);
  });

  it('writes voPersonApplicationPassword;app-<label>, and follows a change of label', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget({ attribute: 'voPersonApplicationPassword' });
    const data = withTokens(personData(), [token('{SSHA512}w1', serviceId, 'wiki')]);
    const result = await runBoth(keeper, t, data);
    const dn = result.targetKey!;
    assert.deepEqual(await values(dn, 'voPersonApplicationPassword;app-wiki'), ['{SSHA512}w1']);
    assert.deepEqual(await values(dn), [], 'not in userPassword');
    await runBoth(keeper, t, withTokens(data, [token('{SSHA512}w1', serviceId, 'docs')]));
    assert.deepEqual(await values(dn, 'voPersonApplicationPassword;app-wiki'), []);
    assert.deepEqual(await values(dn, 'voPersonApplicationPassword;app-docs'), ['{SSHA512}w1']);
    await runBoth(keeper, t, withTokens(data, []));
    assert.deepEqual(await values(dn, 'voPersonApplicationPassword'), []);
  });

  it('withdraws everything for intent absent, and succeeds once the entry is gone', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    const data = withTokens(personData(), [token('{SSHA512}x')]);
    await runBoth(keeper, t, data);
    const dn = keeper.states.get(ldapTarget.id)!.targetKey!;
    // Deletion order: the token target first, then the LDAP target.
    await runTokens(keeper, t, undefined, 'absent');
    assert.deepEqual(await values(dn), []);
    await keeper.run(runLdap, ldapTarget, [ldapTarget, t] as Target[], 'absent', undefined);
    assert.deepEqual(await operationsDuring(slapd, () => runTokens(keeper, t, undefined, 'absent')), NO_OPS);
    assert.equal(keeper.states.get(t.id)!.status, 'removed');
  });

  it('fails (to be retried) while the person has no entry and tokens are due; succeeds when none are', async () => {
    const keeper = new StateKeeper();
    const t = tokenTarget();
    await assert.rejects(runTokens(keeper, t, withTokens(personData(), [token('{SSHA512}early')])), /has no entry in LDAP target "ldap target" yet, so their 1 token\(s\) cannot be written/);
    assert.deepEqual(await runTokens(new StateKeeper(), t, withTokens(personData(), [])), { status: 'removed', targetKey: null, detail: { attribute: 'userPassword', values: [] } });
  });

  it('fails clearly when its LDAP target is gone', async () => {
    const t = tokenTarget({ ldapTargetId: newId() });
    await assert.rejects(
      new StateKeeper().run(runTokenTarget, t, [ldapTarget, t] as Target[], 'present', withTokens(personData(), [])),
      /the LDAP target .* of token target "ldap-service-token target" no longer exists/,
    );
  });
});
