// LDAP servers for tests: a platform admin (the system actor) creates one and assigns it to COs,
// so an LDAP target names it (`serverId`) as a CO admin's target would.
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import type { ProvisioningContext } from '../../src/core/provisioning/target.service.ts';
import type { LdapProvisionerTables } from '../../src/plugins/ldap-provisioner/ldap-entry-claim.table.ts';
import { assignLdapServer, createLdapServer, type LdapServerContext } from '../../src/plugins/ldap-provisioner/ldap-server.service.ts';

/** The LDAP server services over a test app's context. */
export function ldapServerContext(ctx: ProvisioningContext): LdapServerContext {
  return { core: ctx, tables: (db) => db.withTables<LdapProvisionerTables>() };
}

/** Creates an LDAP server (name made unique) and assigns it to the COs; returns its id. */
export async function addLdapServer(
  ctx: ProvisioningContext,
  server: { url: string; bindDn: string; bindPassword: string; subtrees: string[]; coIds: string[]; startTls?: boolean; tlsCaCertificates?: string; tlsVerifyHostname?: boolean; name?: string },
): Promise<string> {
  const servers = ldapServerContext(ctx);
  const { coIds, ...input } = server;
  const created = await createLdapServer(servers, SYSTEM_ACTOR, { name: `${server.name ?? 'Directory'} ${Math.random().toString(36).slice(2, 8)}`, ...input });
  for (const coId of coIds) await assignLdapServer(servers, SYSTEM_ACTOR, created.id, coId);
  return created.id;
}
