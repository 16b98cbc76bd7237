import { definePlugin, type PluginExports, type TesseraPlugin } from '../../core/plugins/plugin.ts';
import type { LdapProvisionerTables } from './ldap-entry-claim.table.ts';
import * as entryClaims from './migrations/20261202010000-entry-claims.ts';
import type { LdapAttributeContributor } from './ldap-extension.ts';
import { ldapProvisioner } from './ldap.provisioner.ts';
import { reachabilityGauges } from './ldap-reachability.ts';

export const LDAP_PROVISIONER_PLUGIN_ID = 'ldap-provisioner';

/**
 * Provisions CO People into an LDAP directory (provisioner type `ldap`): one entry per person,
 * named by one of their identifiers, holding their names, email addresses, uid, groups and status.
 * Exports its extension point (LdapExtensionPoint, typed through PluginExports): plugins that
 * require it register attribute contributors, whose values go into the add creating an entry.
 */
export function ldapProvisionerPlugin(): TesseraPlugin {
  return definePlugin<LdapProvisionerTables>({
    id: LDAP_PROVISIONER_PLUGIN_ID,
    description: 'LDAP provisioner: people as inetOrgPerson entries (optionally eduPerson, eduMember, voPerson)',
    migrations: { '20261202010000-entry-claims': entryClaims },
    setup: (host) => {
      host.metrics.collect(() => reachabilityGauges(host.core.db));
      const contributors: LdapAttributeContributor[] = [];
      // Typed by the PluginExports entry under this plugin's id (declared in ldap-extension.ts).
      const exports: PluginExports[typeof LDAP_PROVISIONER_PLUGIN_ID] = { registerAttributeContributor: (contributor) => void contributors.push(contributor) };
      return { provisioners: [ldapProvisioner(contributors, { db: host.db, now: () => host.clock.now() })], exports };
    },
  });
}
