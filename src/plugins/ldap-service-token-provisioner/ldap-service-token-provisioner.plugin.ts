import { definePlugin, type TesseraPlugin } from '../../core/plugins/plugin.ts';
import { LDAP_PROVISIONER_PLUGIN_ID } from '../ldap-provisioner/ldap-provisioner.plugin.ts';
import type { ServiceTokenTables } from '../service-tokens/service-token.table.ts';
import { SERVICE_TOKENS_PLUGIN_ID } from '../service-tokens/service-tokens.plugin.ts';
import { LDAP_SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import { unsealedTargetsOf } from '../../core/provisioning/target.service.ts';
import { ldapServiceTokenProvisioner, probeAllDirectories } from './ldap-service-token.provisioner.ts';
import * as schemeProbes from './migrations/20261202020000-scheme-probes.ts';
import type { SchemeProbeTables } from './scheme-probe.table.ts';
import type { LdapProvisionerTables } from '../ldap-provisioner/ldap-entry-claim.table.ts';
import { tokenAttributeContributor } from './ldap-token-contributor.ts';
import { LAST_BIND_READ_MS, readLastBinds } from './last-bind.ts';

export const LDAP_SERVICE_TOKEN_PROVISIONER_PLUGIN_ID = 'ldap-service-token-provisioner';

/**
 * Writes a CO Service's token hashes into the entries an LDAP target maintains (provisioner type
 * `ldap-service-token`), to userPassword or to voPersonApplicationPassword;app-<short label>.
 * Depends one way on the LDAP provisioner: it registers a contributor with its extension point,
 * so an entry the LDAP target creates carries the person's token hashes in the same add.
 */
export function ldapServiceTokenProvisionerPlugin(): TesseraPlugin {
  return definePlugin<ServiceTokenTables & SchemeProbeTables & LdapProvisionerTables>({
    id: LDAP_SERVICE_TOKEN_PROVISIONER_PLUGIN_ID,
    description: 'LDAP service token provisioner: a service’s token hashes in the entries of an LDAP target',
    requires: [LDAP_PROVISIONER_PLUGIN_ID, SERVICE_TOKENS_PLUGIN_ID],
    errorCodes: LDAP_SERVICE_TOKEN_ERRORS,
    migrations: { '20261202020000-scheme-probes': schemeProbes },
    setup: (host) => {
      host.exportsOf(LDAP_PROVISIONER_PLUGIN_ID).registerAttributeContributor(tokenAttributeContributor);
      const tokens = host.exportsOf(SERVICE_TOKENS_PLUGIN_ID);
      return {
        provisioners: [ldapServiceTokenProvisioner((db) => host.withTables(db), { db: host.db, now: () => host.clock.now() })],
        // Which schemes each directory checks, again every six hours (and when a token target is saved).
        periodic: [
          { name: 'ldap-scheme-probe', everyMs: 6 * 3600_000, run: () => probeAllDirectories(host.db, (coId) => unsealedTargetsOf(host.core, host.db, coId), host.clock.now()).then(() => undefined) },
          // Last use through LDAP: authTimestamp of the service entries (slapd's lastbind overlay).
          {
            name: 'ldap-last-bind',
            everyMs: LAST_BIND_READ_MS,
            run: async () => {
              const round = await readLastBinds(host.db, (coId) => unsealedTargetsOf(host.core, host.db, coId), tokens.recordExternalUse);
              for (const f of round.failures) host.logger.warn({ targetId: f.targetId, error: f.error }, 'cannot read the last binds at service entries');
            },
          },
        ],
      };
    },
  });
}
