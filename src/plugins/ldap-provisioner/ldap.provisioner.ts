import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NoSuchObjectError } from 'ldapts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { allIdentifierTypes } from '../../core/people/person.service.ts';
import type { PreviousState, ProvisionInput, ProvisionResult, Provisioner } from '../../core/provisioning/provisioner.ts';
import { LDAP_SECRET_FIELDS, ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';
import { connectionWarnings, ldapConnectionFor, ldapErrorOf, valuesOf, type LdapConnection } from './ldap-connection.ts';
import { modifyDnTarget, sameDn } from './ldap-dn.ts';
import { addAttributes, attributesToRead, changesFor, desiredEntry, dnOf, type DesiredEntry } from './ldap-entry.ts';
import { LDAP_PROVISIONER_TYPE, LdapProvisioningError, ldapEntryDetailOf, type ContributedValues, type LdapAttributeContributor, type LdapContribution, type LdapEntryDetail } from './ldap-extension.ts';

/** What the contributors want in a new entry; asked only when an entry is about to be added. */
type Contributions = () => LdapContribution[];

function provisioned(dn: string, entry: string, contributed: Record<string, ContributedValues> | undefined): ProvisionResult {
  const detail: LdapEntryDetail = { entry, ...(contributed && Object.keys(contributed).length > 0 ? { seeded: contributed } : {}) };
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
  // Same entry, same record; an entry taken over gets a new generation (and no contributed values).
  return provisioned(entry.dn, recorded.entry ?? randomUUID(), recorded.entry ? recorded.seeded : undefined);
}

async function removeEntry(ldap: LdapConnection, dn: string): Promise<void> {
  try {
    await ldap.del(dn);
  } catch (error) {
    if (!(ldapErrorOf(error) instanceof NoSuchObjectError)) throw error;
  }
}

/**
 * Reconciles a person's entry. LDAP operations per person: first provisioning (no previous state)
 * one add (holding what the contributors want in it, e.g. token hashes); with a previous state
 * one base search, plus one modify only when something differs (or one add when the entry is
 * missing); a changed DN adds one modifyDN before that; removal one delete.
 */
async function provisionEntry(input: ProvisionInput<LdapConfig>, contributors: readonly LdapAttributeContributor[]): Promise<ProvisionResult> {
  const config = input.target.config;
  const connection = () => ldapConnectionFor(input.session, input.target.id, config);

  if (input.intent === 'absent' || !input.data) {
    const dn = input.previous?.targetKey ?? (input.data ? dnOf(config, input.data) : undefined);
    if (!dn) return { status: 'removed', targetKey: null };
    await removeEntry(await connection(), dn);
    return { status: 'removed', targetKey: dn };
  }

  const entry = desiredEntry(config, input.data);
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
  return reconcile(ldap, entry, contributions, input.previous);
}

/**
 * The `ldap` provisioner type. `contributors` are read at each entry creation, so contributors
 * registered after this call (by plugins set up later) take part.
 */
export function ldapProvisioner(contributors: readonly LdapAttributeContributor[] = []): Provisioner<typeof ldapConfigSchema> {
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
    provision: (input) => provisionEntry(input, contributors),
  };
}
