// Which runs of a token target count as only taking access away, and so go ahead although the
// person's LDAP target failed in the same pass (a revocation or suspension fails closed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import type { PreviousState, Target } from '../../core/provisioning/provisioner.ts';
import type { UsableToken } from '../service-tokens/service-tokens.plugin.ts';
import { ldapServiceTokenConfigSchema, type LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';
import { ldapServiceTokenProvisioner } from './ldap-service-token.provisioner.ts';

const config: LdapServiceTokenConfig = ldapServiceTokenConfigSchema.parse({ ldapTargetId: 'ldap-1', serviceId: 'mail' });
const target: Target<LdapServiceTokenConfig> = {
  id: 'tokens-1', coId: 'co-1', provisionerType: 'ldap-service-token', description: 'Mail tokens', mode: 'automatic',
  ordinal: 20, retryIntervalSeconds: 60, maxRetries: 3, provisionGroupId: null, config,
};
const token = (hash: string, serviceId = 'mail'): UsableToken => ({ id: hash, serviceId, serviceShortLabel: serviceId, hash, storageScheme: 'SSHA512', expiresAt: null });
const dataWith = (tokens: UsableToken[]): ProvisioningData => ({
  co: { id: 'co-1', name: 'CO', description: '', status: 'active', isPlatform: false, createdAt: '2026-01-01T00:00:00.000Z' },
  person: { id: 'p-1' } as ProvisioningData['person'],
  groups: [],
  plugins: { 'service-tokens': { tokens } },
});
const written = (values: string[]): PreviousState => ({ status: 'provisioned', targetKey: 'uid=ada', detail: { attribute: 'userPassword', values } });

describe('LDAP service token target: runs that only withdraw', () => {
  // The tables are not read by onlyWithdraws.
  const provisioner = ldapServiceTokenProvisioner((db) => db.withTables());
  const onlyWithdraws = (intent: 'present' | 'absent', data: ProvisioningData | undefined, previous: PreviousState | undefined) =>
    provisioner.onlyWithdraws!({ target, intent, data, previous });

  it('counts removing the person, and dropping some of the written hashes, as withdrawing', () => {
    assert.equal(onlyWithdraws('absent', undefined, written(['{SSHA512}a'])), true);
    assert.equal(onlyWithdraws('present', dataWith([token('{SSHA512}a')]), written(['{SSHA512}a', '{SSHA512}b'])), true, 'one token revoked');
    assert.equal(onlyWithdraws('present', dataWith([]), written(['{SSHA512}a'])), true, 'every token cut off');
    assert.equal(onlyWithdraws('present', dataWith([token('{SSHA512}x', 'wiki')]), written(['{SSHA512}a'])), true, 'another service’s token is not this target’s');
  });

  it('does not count a run that would add a hash: that waits for the LDAP target', () => {
    assert.equal(onlyWithdraws('present', dataWith([token('{SSHA512}a'), token('{SSHA512}c')]), written(['{SSHA512}a'])), false);
    assert.equal(onlyWithdraws('present', dataWith([token('{SSHA512}a')]), undefined), false, 'nothing written yet');
  });
});
