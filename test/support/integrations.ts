// Test support for docs/integrations/: a Tessera whose tokens reach a throwaway slapd through its
// own LDAP targets, and (from recipes.ts) the recipes' configuration templates and real servers
// from Debian's packages run in the foreground on a random loopback port.
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addMembership, createGroup } from '../../src/core/groups/group.service.ts';
import { groupInput, membershipInput } from '../../src/core/groups/group.schema.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { targetInput } from '../../src/core/provisioning/target.schema.ts';
import type { CoService } from '../../src/core/co-services/co-service.service.ts';
import type { PasswordScheme } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { revokeServiceToken } from '../../src/plugins/service-tokens/tokens/token-revocation.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';
import type { SlapdInstance } from './slapd.ts';
import { buildCo, buildPerson, type BuiltPerson, type TestApp } from './test-app.ts';
import { addLdapServer } from './ldap-servers.ts';

// The recipes' templates and the foreground servers live in recipes.ts (no Tessera code there, so
// scripts/directory-demo.ts uses them too); re-exported for the recipes' tests.
export { renderRecipe, runClient, runDirectory, startForegroundServer, writeConfig, type ForegroundServer } from './recipes.ts';
export const SUFFIX = 'dc=example,dc=org';
export const PEOPLE = `ou=people,${SUFFIX}`;
/** Where service entries go (ou=<label>,ou=services,…): the LDAP server may write here as well as under PEOPLE. */
export const SERVICES = `ou=services,${SUFFIX}`;

/** A CO whose people Tessera provisions into the slapd (the LDAP target), with eduPerson and voPerson. */
export interface DirectoryCo {
  coId: string;
  ldapTargetId: string;
}

/** `bindAs`: the account the LDAP target binds with (default: the rootdn, which no access rule limits). */
export async function buildDirectoryCo(t: TestApp, slapd: SlapdInstance, bindAs?: { dn: string; password: string }): Promise<DirectoryCo> {
  const co = await buildCo(t);
  const ldap = await createTarget(
    t.ctx,
    SYSTEM_ACTOR,
    co.id,
    targetInput.parse({
      provisionerType: 'ldap',
      description: 'Directory',
      ordinal: 10,
      retryIntervalSeconds: 30,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: bindAs?.dn ?? slapd.rootDn, bindPassword: bindAs?.password ?? slapd.rootPassword, subtrees: [PEOPLE, SERVICES], coIds: [co.id] }), baseDn: PEOPLE, eduPerson: true, eduMember: true, voPerson: true },
    }),
  );
  return { coId: co.id, ldapTargetId: ldap.id };
}

/**
 * A token-enabled service of the CO. With `attribute`, a token target writes its tokens into the
 * directory: `userPassword`, or `voPersonApplicationPassword;app-<short label>`.
 */
export async function buildTokenService(
  t: TestApp,
  co: { coId: string; ldapTargetId?: string },
  opts: { name: string; shortLabel?: string; attribute?: 'userPassword' | 'voPersonApplicationPassword' | 'serviceEntries'; scheme?: PasswordScheme },
): Promise<CoService> {
  const service = await buildService(t, co.coId, { name: opts.name, ...(opts.shortLabel ? { shortLabel: opts.shortLabel } : {}) });
  await enableTokens(t, co.coId, service.id, { storageScheme: opts.scheme ?? 'SSHA512', maxTokensPerPerson: 3 });
  if (opts.attribute) {
    if (!co.ldapTargetId) throw new Error('a token target needs the CO’s LDAP target');
    await createTarget(
      t.ctx,
      SYSTEM_ACTOR,
      co.coId,
      targetInput.parse({
        provisionerType: 'ldap-service-token',
        description: `Tokens of ${opts.name}`,
        ordinal: 20,
        retryIntervalSeconds: 30,
        config: {
          ldapTargetId: co.ldapTargetId,
          serviceId: service.id,
          attribute: opts.attribute,
          // Service entries: under ou=<short label>,ou=services (serviceSubtree), made when missing.
          ...(opts.attribute === 'serviceEntries' ? { serviceBaseDn: serviceSubtree(service.shortLabel), createServiceSubtree: true } : {}),
        },
      }),
    );
  }
  return service;
}

/** The subtree of a service's entries in the test directory: `ou=<short label>,ou=services,<suffix>`. */
export function serviceSubtree(shortLabel: string): string {
  return `ou=${shortLabel},ou=services,${SUFFIX}`;
}

/**
 * A service's search account in the test directory, `cn=<short label>,ou=service-accounts,<suffix>`
 * as ldap/slapd.conf.example names them: it finds entries under the service's subtree before the
 * client binds as the one found. Add it with addBindAccount (test/support/slapd.ts).
 */
export function searchAccountDn(shortLabel: string): string {
  return `cn=${shortLabel},ou=service-accounts,${SUFFIX}`;
}

/** A person of the CO (login identifier of type uid, random) and, with `groups`, member of new CO groups of those names. */
export async function buildMember(t: TestApp, coId: string, groups: string[] = []): Promise<BuiltPerson> {
  const person = await buildPerson(t, coId);
  for (const name of groups) {
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, coId, groupInput.parse({ name }));
    await addMembership(t.ctx, SYSTEM_ACTOR, coId, group.id, membershipInput.parse({ personId: person.id }));
  }
  return person;
}

/** Generates a token for the person and service and waits until the worker has provisioned it. */
export async function issueToken(t: TestApp, coId: string, personId: string, serviceId: string, label = 'device'): Promise<{ id: string; secret: string }> {
  const { token, secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, personId, { serviceId, label });
  await t.worker.drain();
  return { id: token.id, secret };
}

/** Revokes a token and waits until the worker has withdrawn it from the directory. */
export async function withdrawToken(t: TestApp, coId: string, personId: string, tokenId: string): Promise<void> {
  await revokeServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, personId, tokenId);
  await t.worker.drain();
}

/** A verification key (`tsv_…`) for the service, as a CO admin makes one. */
export async function verificationKey(t: TestApp, coId: string, serviceId: string, label: string): Promise<string> {
  return (await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, coId, serviceId, label)).key;
}

/** Makes `t` listen on a random loopback port (closed with the app); returns its base URL. */
export async function listenOnLoopback(t: TestApp): Promise<{ url: string; port: number }> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the test app has no TCP address');
  return { url: `http://127.0.0.1:${address.port}`, port: address.port };
}
