import { isPlatformAdmin } from '../../core/auth/actor.ts';
import { definePlugin, type PluginExports, type TesseraPlugin } from '../../core/plugins/plugin.ts';
import type { LdapProvisionerTables } from './ldap-entry-claim.table.ts';
import * as entryClaims from './migrations/20261202010000-entry-claims.ts';
import * as ldapServers from './migrations/20261210010000-ldap-servers.ts';
import { LDAP_PROVISIONER_ERRORS } from './error-codes.ts';
import type { LdapAttributeContributor } from './ldap-extension.ts';
import { ldapProvisioner } from './ldap.provisioner.ts';
import { reachabilityGauges } from './ldap-reachability.ts';
import { registerLdapServerApi } from './ldap-server.api.ts';
import { serversOfCo } from './ldap-server.repository.ts';
import { checkTargetPlacement, serverSettingsForTarget, type LdapServerContext } from './ldap-server.service.ts';
import { registerLdapServerRoutes } from './ldap-server.routes.tsx';
import { SERVERS_HREF } from './ldap-server.views.tsx';

export const LDAP_PROVISIONER_PLUGIN_ID = 'ldap-provisioner';

/**
 * Provisions CO People into an LDAP directory (provisioner type `ldap`): one entry per person,
 * named by one of their identifiers, holding their names, email addresses, uid, groups and status.
 * LDAP servers are platform objects (pages under /platform/ldap-servers, API under
 * /api/v1/ldap-servers): a CO's LDAP target names an assigned server and a base DN inside its
 * subtrees. Exports its extension point (LdapExtensionPoint, typed through PluginExports): plugins
 * that require it register attribute contributors, whose values go into the add creating an entry.
 */
export function ldapProvisionerPlugin(): TesseraPlugin {
  return definePlugin<LdapProvisionerTables>({
    id: LDAP_PROVISIONER_PLUGIN_ID,
    description: 'LDAP provisioner: people as inetOrgPerson entries (optionally eduPerson, eduMember, voPerson)',
    errorCodes: LDAP_PROVISIONER_ERRORS,
    migrations: { '20261202010000-entry-claims': entryClaims, '20261210010000-ldap-servers': ldapServers },
    setup: (host) => {
      host.metrics.collect(() => reachabilityGauges(host.core.db));
      const contributors: LdapAttributeContributor[] = [];
      const servers: LdapServerContext = { core: host.core, tables: (db) => host.withTables(db) };
      // Typed by the PluginExports entry under this plugin's id (declared in ldap-extension.ts).
      const exports: PluginExports[typeof LDAP_PROVISIONER_PLUGIN_ID] = { registerAttributeContributor: (contributor) => void contributors.push(contributor) };
      const provisioner = ldapProvisioner(contributors, {
        db: host.db,
        clock: host.clock,
        tables: (db) => host.withTables(db),
        serverSettings: (db, target) => serverSettingsForTarget(servers, db, target),
        serverChoices: async (db, coId) => (await serversOfCo(host.withTables(db), coId)).map((s) => ({ value: s.id, label: `${s.name} (${s.subtrees.join('; ')})` })),
        checkPlacement: (db, coId, config) => checkTargetPlacement(servers, db, coId, config),
      });
      return {
        provisioners: [provisioner],
        exports,
        routes: (app, ctx) => {
          registerLdapServerApi(app, ctx, servers);
          registerLdapServerRoutes(app, ctx, servers);
        },
        menus: { coConfiguration: ({ actor }) => (isPlatformAdmin(actor) ? [{ label: 'LDAP servers', href: SERVERS_HREF, description: 'Platform: directories, their credentials and subtrees, and which COs use them' }] : []) },
      };
    },
  });
}
