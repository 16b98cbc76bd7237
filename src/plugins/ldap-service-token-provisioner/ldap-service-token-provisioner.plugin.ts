import type { TesseraPlugin } from '../../core/plugins/plugin.ts';
import { LDAP_PROVISIONER_PLUGIN_ID } from '../ldap-provisioner/ldap-provisioner.plugin.ts';
import { SERVICE_TOKENS_PLUGIN_ID } from '../service-tokens/service-tokens.plugin.ts';
import { LDAP_SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import { ldapServiceTokenProvisioner, tokenSeeds } from './ldap-service-token.provisioner.ts';

export const LDAP_SERVICE_TOKEN_PROVISIONER_PLUGIN_ID = 'ldap-service-token-provisioner';

/**
 * Writes a CO Service's token hashes into the entries an LDAP target maintains (provisioner type
 * `ldap-service-token`), to userPassword or to voPersonApplicationPassword;app-<short label>.
 */
export function ldapServiceTokenProvisionerPlugin(): TesseraPlugin {
  return {
    id: LDAP_SERVICE_TOKEN_PROVISIONER_PLUGIN_ID,
    description: 'LDAP service token provisioner: a service’s token hashes in the entries of an LDAP target',
    requires: [LDAP_PROVISIONER_PLUGIN_ID, SERVICE_TOKENS_PLUGIN_ID],
    errorCodes: LDAP_SERVICE_TOKEN_ERRORS,
    setup: () => ({
      provisioners: [ldapServiceTokenProvisioner],
      // An LDAP target creating an entry puts the tokens in with the same add (see LdapEntrySeed).
      provisioningData: async (db, data) => ({ ldapEntrySeeds: await tokenSeeds(db, data) }),
    }),
  };
}
