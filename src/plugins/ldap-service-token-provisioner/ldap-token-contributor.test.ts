// What the token targets contribute to an entry their LDAP target creates, and how the person's
// tokens are read from provisioning data. No directory needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Target } from '../../core/provisioning/provisioner.ts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { newId } from '../../db/ids.ts';
import { ldapSettings, personData, targetOf } from '../ldap-provisioner/ldap-provisioner.test-support.ts';
import { ldapServiceTokenConfigSchema } from './ldap-service-token-config.schema.ts';
import { tokensOf, wantedValues, type ProvisionedToken } from './provisioned-tokens.ts';
import { tokenContributions } from './ldap-token-contributor.ts';

const ldapTarget = targetOf('ldap', ldapSettings(), { ordinal: 10 });
const serviceId = newId();

function token(hash: string, service = serviceId, label = 'wiki'): ProvisionedToken {
  return { id: newId(), serviceId: service, serviceShortLabel: label, hash, storageScheme: 'SSHA512', expiresAt: null };
}
function withTokens(data: ProvisioningData, tokens: ProvisionedToken[]): ProvisioningData {
  return { ...data, plugins: { 'service-tokens': { tokens } } };
}
function tokenTarget(config: Record<string, unknown> = {}, overrides: Partial<Target> = {}): Target {
  return targetOf('ldap-service-token', ldapServiceTokenConfigSchema.parse({ ldapTargetId: ldapTarget.id, serviceId, ...config }), { ordinal: 20, coId: ldapTarget.coId, ...overrides });
}

describe('token contributions to a new LDAP entry', () => {
  it('offers each running token target of this LDAP target its service’s hashes, in its attribute', () => {
    const data = withTokens(personData(), [token('{SSHA512}a'), token('{SSHA512}a'), token('{SSHA512}docs', newId(), 'docs')]);
    const plain = tokenTarget();
    const perService = tokenTarget({ attribute: 'voPersonApplicationPassword' });
    assert.deepEqual(tokenContributions({ ldapTarget, targets: [ldapTarget, plain, perService], data }), [
      { sourceTargetId: plain.id, attribute: 'userPassword', values: ['{SSHA512}a'] },
      { sourceTargetId: perService.id, attribute: 'voPersonApplicationPassword;app-wiki', values: ['{SSHA512}a'] },
    ]);
  });

  it('leaves out targets that would not write right after: manual or disabled, another LDAP target, another group, no token of theirs', () => {
    const data = withTokens(personData(), [token('{SSHA512}a')]);
    const member = data.groups[0]!.id;
    const targets = [
      ldapTarget,
      tokenTarget({}, { mode: 'manual' }),
      tokenTarget({}, { mode: 'disabled' }),
      tokenTarget({ ldapTargetId: newId() }),
      tokenTarget({}, { provisionGroupId: newId() }),
      tokenTarget({ serviceId: newId() }),
    ];
    assert.deepEqual(tokenContributions({ ldapTarget, targets, data }), []);
    const inGroup = tokenTarget({}, { provisionGroupId: member, mode: 'queue' });
    assert.deepEqual(tokenContributions({ ldapTarget, targets: [...targets, inGroup], data }).map((c) => c.sourceTargetId), [inGroup.id]);
  });

  it('offers nothing for a person who keeps no entry or has no token', () => {
    const t = tokenTarget();
    assert.deepEqual(tokenContributions({ ldapTarget, targets: [ldapTarget, t], data: withTokens(personData(), []) }), []);
    assert.deepEqual(tokenContributions({ ldapTarget, targets: [ldapTarget, t], data: personData() }), []);
  });
});

describe('the person’s tokens in provisioning data', () => {
  it('reads the service tokens plugin’s part; none without data or without that part', () => {
    const tokens = [token('{SSHA512}a')];
    assert.deepEqual(tokensOf(withTokens(personData(), tokens)), tokens);
    assert.deepEqual(tokensOf(personData()), []);
    assert.deepEqual(tokensOf(undefined), []);
  });

  it('refuses a part of another shape instead of withdrawing every token', () => {
    const data = personData();
    data.plugins['service-tokens'] = { tokens: [{ hash: 1 }] };
    assert.throws(() => tokensOf(data), /the "service-tokens" part of the provisioning data is not a list of tokens/);
    data.plugins['service-tokens'] = { list: [] };
    assert.throws(() => tokensOf(data), /not a list of tokens/);
  });

  it('wants the distinct hashes of the target’s service, in userPassword or the per-service attribute', () => {
    const tokens = [token('{SSHA512}a'), token('{SSHA512}b'), token('{SSHA512}a'), token('{SSHA512}x', newId())];
    assert.deepEqual(wantedValues({ serviceId, attribute: 'userPassword' }, tokens), { attribute: 'userPassword', values: ['{SSHA512}a', '{SSHA512}b'] });
    assert.deepEqual(wantedValues({ serviceId, attribute: 'voPersonApplicationPassword' }, tokens), { attribute: 'voPersonApplicationPassword;app-wiki', values: ['{SSHA512}a', '{SSHA512}b'] });
    assert.deepEqual(wantedValues({ serviceId: newId(), attribute: 'userPassword' }, tokens), { attribute: undefined, values: [] });
  });
});
