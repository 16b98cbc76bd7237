// What the token targets want in an entry their LDAP target is about to create, so that a new
// person's entry is one LDAP add carrying their token hashes instead of an add and a modify.
import { keepsEntry } from '../../core/people/person.service.ts';
import type { Target } from '../../core/provisioning/provisioner.ts';
import type { LdapAttributeContributor, LdapContribution, LdapEntryRequest } from '../ldap-provisioner/ldap-extension.ts';
import { LDAP_SERVICE_TOKEN_PROVISIONER_TYPE, ldapServiceTokenConfigSchema } from './ldap-service-token-config.schema.ts';
import { tokensOf, wantedValues } from './provisioned-tokens.ts';

/** Modes in which a registry change runs the target by itself (not manual, not disabled). */
const RUNNING_MODES: ReadonlySet<Target['mode']> = new Set(['automatic', 'queue', 'queue_on_error']);

/**
 * The values of the token targets of this LDAP target, for the entry it creates. Only targets
 * that run by themselves and would provision the person (their provisioning group, if any,
 * includes them) take part: what goes into the add is exactly what the token target writes right
 * after, so it takes those values over as its own record (ldapEntryOf(...).contributed).
 */
export function tokenContributions({ ldapTarget, targets, data }: LdapEntryRequest): LdapContribution[] {
  const tokens = tokensOf(data);
  if (tokens.length === 0 || !keepsEntry(data.person.status)) return [];
  const contributions: LdapContribution[] = [];
  for (const target of targets) {
    if (target.provisionerType !== LDAP_SERVICE_TOKEN_PROVISIONER_TYPE || !RUNNING_MODES.has(target.mode)) continue;
    if (target.provisionGroupId && !data.groups.some((g) => g.id === target.provisionGroupId)) continue;
    const parsed = ldapServiceTokenConfigSchema.safeParse(target.config);
    if (!parsed.success || parsed.data.ldapTargetId !== ldapTarget.id || parsed.data.attribute === 'serviceEntries') continue;
    const { attribute, values } = wantedValues(parsed.data, tokens);
    if (attribute) contributions.push({ sourceTargetId: target.id, attribute, values });
  }
  return contributions;
}

/** The token provisioner's contributor, registered with the LDAP provisioner's extension point. */
export const tokenAttributeContributor: LdapAttributeContributor = { attributesFor: tokenContributions };
