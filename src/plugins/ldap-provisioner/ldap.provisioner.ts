import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NoSuchObjectError } from 'ldapts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { allIdentifierTypes } from '../../core/people/person.service.ts';
import type { PreviousState, ProvisionInput, ProvisionResult, Provisioner } from '../../core/provisioning/provisioner.ts';
import { LDAP_SECRET_FIELDS, ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';
import { connectionWarnings, ldapConnectionFor, ldapErrorOf, valuesOf, type LdapConnection } from './ldap-connection.ts';
import { modifyDnTarget, sameDn } from './ldap-dn.ts';
import { addAttributes, attributesToRead, changesFor, desiredEntry, dnOf, rdnValueOf, type DesiredEntry } from './ldap-entry.ts';
import { claimEntry, releaseClaims, type ClaimDb } from './ldap-entry-claims.ts';
import { LDAP_PROVISIONER_TYPE, LdapProvisioningError, ldapEntryDetailOf, type ContributedValues, type LdapAttributeContributor, type LdapContribution, type LdapEntryDetail } from './ldap-extension.ts';

/** What the contributors want in a new entry; asked only when an entry is about to be added. */
type Contributions = () => LdapContribution[];

function provisioned(dn: string, entry: string, contributed: Record<string, ContributedValues> | undefined, adopted = false): ProvisionResult {
  const detail: LdapEntryDetail = { entry, ...(contributed && Object.keys(contributed).length > 0 ? { seeded: contributed } : {}), ...(adopted ? { adopted: true } : {}) };
  return { status: 'provisioned', targetKey: dn, detail };
}

async function addEntry(ldap: LdapConnection, entry: DesiredEntry, contributions: Contributions): Promise<ProvisionResult> {
  const { attributes, contributed } = addAttributes(entry, contributions());
  await ldap.add(entry.dn, attributes);
  return provisioned(entry.dn, randomUUID(), contributed);
}

/** Reads the entry once and sends one modify if it differs (one add if it is missing). */
async function reconcile(ldap: LdapConnection, entry: DesiredEntry, contributions: Contributions, previous: PreviousState | undefined): Promise<ProvisionResult> {
  const current = await ldap.read(entry.dn, attributesToRead(entry));
  if (!current) return addEntry(ldap, entry, contributions);
  const changes = changesFor(entry, valuesOf(current));
  if (changes.length > 0) await ldap.modify(entry.dn, changes);
  const recorded = ldapEntryDetailOf(previous);
  // Same entry, same record; an entry taken over gets a new generation (and no contributed values),
  // marked adopted: values in it that Tessera did not write are for its token targets to clear.
  return recorded.entry ? provisioned(entry.dn, recorded.entry, recorded.seeded, recorded.adopted) : provisioned(entry.dn, randomUUID(), undefined, true);
}

async function removeEntry(ldap: LdapConnection, dn: string): Promise<void> {
  try {
    await ldap.del(dn);
  } catch (error) {
    if (!(ldapErrorOf(error) instanceof NoSuchObjectError)) throw error;
  }
}

/** Where claims on DNs are kept, and for whom: undefined in unit tests of the LDAP writes alone. */
interface ClaimScope {
  db: ClaimDb;
  now: () => Date;
}

/**
 * When the person can no longer be named in the directory (their naming identifier is gone) while
 * the target holds an entry for them, the entry goes at once, with every token value in it, so
 * nothing binds as them; the job then fails saying so, until they are named again.
 */
async function withdrawUnnamed(ldap: () => Promise<LdapConnection>, input: ProvisionInput<LdapConfig>, previousDn: string, claims: ClaimScope | undefined): Promise<never> {
  await removeEntry(await ldap(), previousDn);
  if (claims) await releaseClaims(claims.db, input.target.id, input.personId);
  const config = input.target.config;
  throw new LdapProvisioningError(
    `${input.data!.person.displayName} has no active identifier of type "${config.dnIdentifierType}", which names the LDAP entry (${config.dnAttribute}=…,${config.baseDn}); their entry ${previousDn} was removed, with the token values in it, so nothing binds as them; add an identifier to provision them again`,
  );
}

/**
 * Reconciles a person's entry. LDAP operations per person: first provisioning (no previous state)
 * one add (holding what the contributors want in it, e.g. token hashes); with a previous state
 * one base search, plus one modify only when something differs (or one add when the entry is
 * missing); a changed DN adds one modifyDN before that; removal one delete.
 */
async function provisionEntry(input: ProvisionInput<LdapConfig>, contributors: readonly LdapAttributeContributor[], claims: ClaimScope | undefined): Promise<ProvisionResult> {
  const config = input.target.config;
  const connection = () => ldapConnectionFor(input.session, input.target.id, config);

  if (input.intent === 'absent' || !input.data) {
    const dn = input.previous?.targetKey ?? (input.data ? dnOf(config, input.data) : undefined);
    if (!dn) return { status: 'removed', targetKey: null };
    await removeEntry(await connection(), dn);
    if (claims) await releaseClaims(claims.db, input.target.id, input.personId);
    return { status: 'removed', targetKey: dn };
  }

  const previousEntryDn = input.previous && input.previous.status !== 'removed' ? input.previous.targetKey : null;
  if (previousEntryDn && rdnValueOf(config, input.data) === undefined) return withdrawUnnamed(connection, input, previousEntryDn, claims);
  const entry = desiredEntry(config, input.data);
  // Before anything is written: the DN must be this person's, not another person's entry.
  if (claims) await claimEntry(claims.db, config.url, entry.dn, { coId: input.target.coId, targetId: input.target.id, personId: input.personId }, claims.now());
  const request = { ldapTarget: input.target, targets: input.targets, data: input.data };
  const contributions = () => contributors.flatMap((c) => c.attributesFor(request));
  const ldap = await connection();
  const previousDn = input.previous && input.previous.status !== 'removed' ? input.previous.targetKey : null;
  if (!previousDn) {
    try {
      return await addEntry(ldap, entry, contributions);
    } catch (error) {
      // Made by hand or by a run whose outcome was lost: take it over, holding exactly our values.
      if (!(ldapErrorOf(error) instanceof AlreadyExistsError)) throw error;
      return reconcile(ldap, entry, contributions, undefined);
    }
  }
  if (!sameDn(previousDn, entry.dn)) {
    try {
      // Renaming keeps every other value of the entry (another target's tokens among them).
      await ldap.modifyDN(previousDn, modifyDnTarget(previousDn, entry.dn));
    } catch (error) {
      const cause = ldapErrorOf(error);
      if (cause instanceof AlreadyExistsError) {
        throw new LdapProvisioningError(`cannot rename ${previousDn} to ${entry.dn}: an entry with that DN exists already`);
      }
      // A previous entry that is gone is no obstacle: the entry is made at its new DN.
      if (!(cause instanceof NoSuchObjectError)) throw error;
    }
  }
  const result = await reconcile(ldap, entry, contributions, input.previous);
  // Renamed: the old DN is free for others.
  if (claims && !sameDn(previousDn, entry.dn)) await releaseClaims(claims.db, input.target.id, input.personId, entry.dn);
  return result;
}

/**
 * The `ldap` provisioner type. `contributors` are read at each entry creation, so contributors
 * registered after this call (by plugins set up later) take part. `claims`: where DNs are claimed
 * for people (ldap_entry_claim), so two people never share an entry; the plugin always gives it.
 */
export function ldapProvisioner(contributors: readonly LdapAttributeContributor[] = [], claims?: ClaimScope): Provisioner<typeof ldapConfigSchema> {
  return {
    type: LDAP_PROVISIONER_TYPE,
    label: 'LDAP',
    configSchema: ldapConfigSchema,
    secretFields: LDAP_SECRET_FIELDS,
    // The bind DN may change on the same server; another server, or no StartTLS, needs the password again.
    secretsBoundTo: ['url', 'startTls', 'tlsCaCertificates', 'tlsVerifyHostname'],
    warnings: (target) => connectionWarnings(target.config),
    async validate(db, _ctx, target) {
      const types = await allIdentifierTypes(db, target.coId);
      if (!types.includes(target.config.dnIdentifierType)) {
        throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_UNKNOWN, {
          field: 'config.dnIdentifierType',
          message: `Identifier type "${target.config.dnIdentifierType}" is not defined in this CO (known: ${types.join(', ')})`,
        });
      }
    },
    provision: (input) => provisionEntry(input, contributors, claims),
  };
}
