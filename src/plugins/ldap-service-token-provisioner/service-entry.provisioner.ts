// The `serviceEntries` mode of a token target: keeps the person's entry under the service's
// subtree in step with the registry, and owns nothing else. The entry follows every path tokens
// follow (the provisioning data holds usable tokens only: revoked, expired, suspended people,
// group and validity windows, suspended services all empty it), and the person's naming
// identifier (a rename moves the entry).
import type { Kysely } from 'kysely';
import { AlreadyExistsError, NoSuchObjectError } from 'ldapts';
import { findService } from '../../core/co-services/co-service.repository.ts';
import type { ProvisionInput, ProvisionResult, Target } from '../../core/provisioning/provisioner.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { ldapConnectionFor, ldapErrorOf, type LdapConnection } from '../ldap-provisioner/ldap-connection.ts';
import { modifyDnTarget, parseDn, sameDn, splitFirstRdn } from '../ldap-provisioner/ldap-dn.ts';
import { claimEntry, directoryKey, dnKey, releaseClaims } from '../ldap-provisioner/ldap-entry-claims.ts';
import type { LdapProvisionerTables } from '../ldap-provisioner/ldap-entry-claim.table.ts';
import { rdnValueOf } from '../ldap-provisioner/ldap-entry.ts';
import { LdapProvisioningError, ldapTargetOf } from '../ldap-provisioner/ldap-extension.ts';
import type { ServiceTokenTables } from '../service-tokens/service-token.table.ts';
import { acceptanceOf } from '../service-tokens/tokens/usable-token.ts';
import type { LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';
import { tokensOf } from './provisioned-tokens.ts';
import { addAttributesOf, replaceAllOf, serviceEntryDetailOf, serviceEntryFor, serviceSubtreeAllowed, type ServiceEntry, type ServiceEntryDetail } from './service-entry.ts';

/** The database the service-entry mode reads (who may use the service) and claims DNs in. */
export type ServiceEntryDb = Kysely<CoreDatabase & ServiceTokenTables & LdapProvisionerTables>;

/** Where service entries claim their DNs and read the registry: the plugin gives its host's. */
export interface ServiceEntryScope {
  db: ServiceEntryDb;
  now: () => Date;
}

async function removeEntry(ldap: LdapConnection, dn: string): Promise<void> {
  try {
    await ldap.del(dn);
  } catch (error) {
    if (!(ldapErrorOf(error) instanceof NoSuchObjectError)) throw error;
  }
}

/**
 * Claims the DN for the person through this target. 'held': this target claimed it for them
 * before (so an entry found there is one Tessera made, whose add's outcome was lost); 'new': just
 * claimed. Throws LdapProvisioningError when another person or another target holds it.
 */
async function claimServiceEntry(scope: ServiceEntryScope, url: string, dn: string, target: Target, personId: string): Promise<'held' | 'new'> {
  const holder = await scope.db.selectFrom('ldap_entry_claim').select(['target_id', 'person_id']).where('directory', '=', directoryKey(url)).where('dn_key', '=', dnKey(dn)).executeTakeFirst();
  if (holder && holder.person_id === personId && holder.target_id === target.id) return 'held';
  if (holder && holder.person_id === personId) {
    throw new LdapProvisioningError(`DN conflict: the entry ${dn} is written by another target of Tessera; give token target "${target.description}" a service subtree of its own`);
  }
  await claimEntry(scope.db, url, dn, { coId: target.coId, targetId: target.id, personId }, scope.now());
  return 'new';
}

/** Adds the subtree as organizational units, the missing ones above it first. Only `ou=` RDNs are made. */
async function ensureSubtree(ldap: LdapConnection, dn: string): Promise<void> {
  const [first] = parseDn(dn);
  const ava = first?.length === 1 ? first[0] : undefined;
  if (!ava || ava.type.toLowerCase() !== 'ou') {
    throw new LdapProvisioningError(`the service subtree needs ${dn}, which does not exist and is not an organizational unit Tessera could add`);
  }
  // Another job may add the same unit at the same moment: an entry already there is what we want.
  const addUnit = async (): Promise<void> => {
    try {
      await ldap.add(dn, { objectClass: ['top', 'organizationalUnit'], ou: [ava.value] });
    } catch (error) {
      if (!(ldapErrorOf(error) instanceof AlreadyExistsError)) throw error;
    }
  };
  try {
    await addUnit();
  } catch (error) {
    if (!(ldapErrorOf(error) instanceof NoSuchObjectError)) throw error;
    const { parent } = splitFirstRdn(dn);
    if (!parent) throw error;
    await ensureSubtree(ldap, parent);
    await addUnit();
  }
}

/** Adds the entry; a missing subtree is made first when the target may, else named in the error. */
async function addServiceEntry(ldap: LdapConnection, entry: ServiceEntry, config: LdapServiceTokenConfig): Promise<void> {
  try {
    await ldap.add(entry.dn, addAttributesOf(entry));
  } catch (error) {
    if (!(ldapErrorOf(error) instanceof NoSuchObjectError)) throw error;
    if (!config.createServiceSubtree) {
      throw new LdapProvisioningError(`the service subtree ${config.serviceBaseDn} does not exist; add it to the directory, or let the token target create it`);
    }
    await ensureSubtree(ldap, config.serviceBaseDn!);
    await ldap.add(entry.dn, addAttributesOf(entry));
  }
}

/** Whether the entry should exist: the person holds a usable token of the service, or (by choice) may use it. */
async function entryWanted(scope: ServiceEntryScope, input: ProvisionInput<LdapServiceTokenConfig>, hashes: string[]): Promise<boolean> {
  if (input.intent === 'absent' || !input.data) return false;
  if (input.target.config.serviceEntryWhile === 'usableToken') return hashes.length > 0;
  const acceptance = await acceptanceOf(scope.db, input.target.coId, input.data.person, scope.now());
  return acceptance.accepts(input.target.config.serviceId);
}

async function groupNamesOf(scope: ServiceEntryScope, input: ProvisionInput<LdapServiceTokenConfig>): Promise<string[]> {
  if (!input.target.config.serviceEntryGroup || !input.data) return [];
  const service = await findService(scope.db, input.target.coId, input.target.config.serviceId);
  return service?.coGroupId ? input.data.groups.filter((g) => g.id === service.coGroupId).map((g) => g.name) : [];
}

/**
 * Reconciles the person's service entry. LDAP operations per person: none when nothing changed
 * (the recorded digest equals the wanted one); one add for a new entry (plus the subtree's adds
 * once, when allowed); one modify (a replace of each owned attribute) when something changed; a
 * modifyDN before it when the naming identifier changed; one delete when the entry must go.
 * Never takes over an entry it did not make: an add that finds an entry on a DN this target had
 * not claimed for the person fails, naming it.
 */
export async function provisionServiceEntry(input: ProvisionInput<LdapServiceTokenConfig>, scope: ServiceEntryScope): Promise<ProvisionResult> {
  const { target } = input;
  const config = target.config;
  const ldapTarget = ldapTargetOf(input.targets, config.ldapTargetId);
  if (!ldapTarget) throw new LdapProvisioningError(`the LDAP target ${config.ldapTargetId} of token target "${target.description}" no longer exists`);
  // Checked when the target was saved, and again here: the server's subtrees may have shrunk since.
  if (!serviceSubtreeAllowed(config, ldapTarget.config)) {
    throw new LdapProvisioningError(`the service subtree ${config.serviceBaseDn} of token target "${target.description}" lies outside the subtrees its LDAP server may write (${ldapTarget.config.subtrees.join('; ') || 'none'}); nothing was written`);
  }
  const connection = () => ldapConnectionFor(input.session, ldapTarget.id, ldapTarget.config);
  const previousDn = input.previous && input.previous.status !== 'removed' ? input.previous.targetKey : null;
  const hashes = [...new Set(input.intent === 'present' ? tokensOf(input.data).filter((t) => t.serviceId === config.serviceId).map((t) => t.hash) : [])];
  const wanted = await entryWanted(scope, input, hashes);
  const rdnValue = input.data ? rdnValueOf(ldapTarget.config, input.data) : undefined;

  if (!wanted || rdnValue === undefined) {
    if (previousDn) await removeEntry(await connection(), previousDn);
    await releaseClaims(scope.db, target.id, input.personId);
    if (wanted && hashes.length > 0) throw unnamed(ldapTarget, input);
    return { status: 'removed', targetKey: null, detail: { mode: 'serviceEntry' } satisfies ServiceEntryDetail };
  }

  const entry = serviceEntryFor(ldapTarget.config, config, input.data!, rdnValue, hashes, await groupNamesOf(scope, input));
  const done = (): ProvisionResult => ({ status: 'provisioned', targetKey: entry.dn, detail: { mode: 'serviceEntry', digest: entry.digest, classes: entry.classes, tokens: hashes.length } satisfies ServiceEntryDetail });
  const previous = serviceEntryDetailOf(input.previous);
  const renamed = previousDn !== null && !sameDn(previousDn, entry.dn);
  if (previousDn && !renamed && previous.digest === entry.digest && previous.classes === entry.classes) return done();

  // Before anything is written: the DN must be this person's, and not an entry someone else made.
  const claim = await claimServiceEntry(scope, ldapTarget.config.url, entry.dn, target, input.personId);
  const ldap = await connection();
  let current: string | null = previousDn;
  if (current && previous.classes !== entry.classes) {
    // Other object classes: the entry is made anew (a structural class cannot change in place).
    await removeEntry(ldap, current);
    current = null;
  }
  if (current && renamed) {
    try {
      await ldap.modifyDN(current, modifyDnTarget(current, entry.dn));
    } catch (error) {
      const cause = ldapErrorOf(error);
      if (cause instanceof AlreadyExistsError) throw new LdapProvisioningError(`cannot rename ${current} to ${entry.dn}: an entry with that DN exists already`);
      if (!(cause instanceof NoSuchObjectError)) throw error;
      current = null;
    }
  }
  if (current) {
    try {
      await ldap.modify(entry.dn, replaceAllOf(entry));
    } catch (error) {
      // Removed by hand meanwhile: made again (its DN is claimed for the person).
      if (!(ldapErrorOf(error) instanceof NoSuchObjectError)) throw error;
      await addServiceEntry(ldap, entry, config);
    }
  } else {
    try {
      await addServiceEntry(ldap, entry, config);
    } catch (error) {
      if (!(ldapErrorOf(error) instanceof AlreadyExistsError)) throw error;
      if (claim === 'new') {
        await releaseClaims(scope.db, target.id, input.personId);
        throw new LdapProvisioningError(`the entry ${entry.dn} exists already and was not made by Tessera; Tessera does not take it over: remove it, or choose another service subtree`);
      }
      // Made by an earlier run of this target whose outcome was lost.
      await ldap.modify(entry.dn, replaceAllOf(entry));
    }
  }
  if (renamed || claim === 'new') await releaseClaims(scope.db, target.id, input.personId, entry.dn);
  return done();
}

function unnamed(ldapTarget: Target<LdapConfig>, input: ProvisionInput<LdapServiceTokenConfig>): LdapProvisioningError {
  return new LdapProvisioningError(
    `${input.data!.person.displayName} has no active identifier of type "${ldapTarget.config.dnIdentifierType}", which names their service entry under ${input.target.config.serviceBaseDn}; their tokens of this service are not in the directory until they have one`,
  );
}
