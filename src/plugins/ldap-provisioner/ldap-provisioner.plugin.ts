import type { TesseraPlugin } from '../../core/plugins/plugin.ts';
import { ldapProvisioner } from './ldap.provisioner.ts';

export const LDAP_PROVISIONER_PLUGIN_ID = 'ldap-provisioner';

/**
 * Provisions CO People into an LDAP directory (provisioner type `ldap`): one entry per person,
 * named by one of their identifiers, holding their names, email addresses, uid, groups and status.
 */
export function ldapProvisionerPlugin(): TesseraPlugin {
  return {
    id: LDAP_PROVISIONER_PLUGIN_ID,
    description: 'LDAP provisioner: people as inetOrgPerson entries (optionally eduPerson, eduMember, voPerson)',
    setup: () => ({ provisioners: [ldapProvisioner] }),
  };
}
