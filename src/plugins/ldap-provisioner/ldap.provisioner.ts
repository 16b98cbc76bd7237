import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NoSuchObjectError } from 'ldapts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { allIdentifierTypes } from '../../core/people/person.service.ts';
import type { PreviousState, ProvisionInput, ProvisionResult, Provisioner } from '../../core/provisioning/provisioner.ts';
import { LDAP_SECRET_FIELDS, ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';
import { ldapConnectionFor, ldapErrorOf, type LdapConnection } from './ldap-connection.ts';
import { modifyDnTarget, sameDn } from './ldap-dn.ts';
import { addAttributes, attributesToRead, changesFor, desiredEntry, dnOf, LdapProvisioningError, ldapSeedsOf, valuesOf, type DesiredEntry, type LdapEntrySeed, type SeededValues } from './ldap-entry.ts';

export const LDAP_PROVISIONER_TYPE = 'ldap';

/**
 * What an `ldap` target records per person (provisioning_state.detail). `entry` changes whenever
 * this target creates the entry anew, so a provisioner writing into the entry (the token
 * provisioner) knows its own record of the entry's values may be stale and must read it.
 */
export interface LdapEntryDetail {
  entry?: string;
  /** Values of other targets this target put into the entry when it created it (see LdapEntrySeed). */
  seeded?: SeededValues;
}

/** The generation of the person's entry in an `ldap` target, if the target recorded one. */
export function entryGenerationOf(state: PreviousState | undefined): string | undefined {
  const entry = state?.detail.entry;
  return typeof entry === 'string' ? entry : undefined;
}

/** What an `ldap` target put into the person's current entry for another target, when it made it. */
export function seededValuesOf(state: PreviousState | undefined, sourceTargetId: string): { attribute: string; values: string[] } | undefined {
  const seeded = (state?.detail.seeded as SeededValues | undefined)?.[sourceTargetId];
  return typeof seeded?.attribute === 'string' && Array.isArray(seeded.values) ? seeded : undefined;
}

function provisioned(dn: string, entry: string, seeded: SeededValues | undefined): ProvisionResult {
  const detail: LdapEntryDetail = { entry, ...(seeded && Object.keys(seeded).length > 0 ? { seeded } : {}) };
  return { status: 'provisioned', targetKey: dn, detail: detail as Record<string, unknown> };
}

async function addEntry(ldap: LdapConnection, entry: DesiredEntry, seeds: LdapEntrySeed[]): Promise<ProvisionResult> {
  const { attributes, seeded } = addAttributes(entry, seeds);
  await ldap.add(entry.dn, attributes);
  return provisioned(entry.dn, randomUUID(), seeded);
}

/** Reads the entry once and sends one modify if it differs (one add if it is missing). */
async function reconcile(ldap: LdapConnection, entry: DesiredEntry, seeds: LdapEntrySeed[], previous: PreviousState | undefined): Promise<ProvisionResult> {
  const current = await ldap.read(entry.dn, attributesToRead(entry));
  if (!current) return addEntry(ldap, entry, seeds);
  const changes = changesFor(entry, valuesOf(current));
  if (changes.length > 0) await ldap.modify(entry.dn, changes);
  const generation = entryGenerationOf(previous);
  // Same entry, same record; an entry taken over gets a new generation (and no seeds).
  return provisioned(entry.dn, generation ?? randomUUID(), generation ? (previous?.detail.seeded as SeededValues | undefined) : undefined);
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
 * one add (holding other targets' seeds, e.g. token hashes); with a previous state one base
 * search, plus one modify only when something differs (or one add when the entry is missing); a
 * changed DN adds one modifyDN before that; removal one delete.
 */
async function provisionEntry(input: ProvisionInput<LdapConfig>): Promise<ProvisionResult> {
  const config = input.target.config;
  const connection = () => ldapConnectionFor(input.session, input.target.id, config);

  if (input.intent === 'absent' || !input.data) {
    const dn = input.previous?.targetKey ?? (input.data ? dnOf(config, input.data) : undefined);
    if (!dn) return { status: 'removed', targetKey: null };
    await removeEntry(await connection(), dn);
    return { status: 'removed', targetKey: dn };
  }

  const entry = desiredEntry(config, input.data);
  const seeds = ldapSeedsOf(input.data, input.target.id);
  const ldap = await connection();
  const previousDn = input.previous && input.previous.status !== 'removed' ? input.previous.targetKey : null;
  if (!previousDn) {
    try {
      return await addEntry(ldap, entry, seeds);
    } catch (error) {
      // Made by hand or by a run whose outcome was lost: take it over, holding exactly our values.
      if (!(ldapErrorOf(error) instanceof AlreadyExistsError)) throw error;
      return reconcile(ldap, entry, seeds, undefined);
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
  return reconcile(ldap, entry, seeds, input.previous);
}

export const ldapProvisioner: Provisioner<typeof ldapConfigSchema> = {
  type: LDAP_PROVISIONER_TYPE,
  label: 'LDAP',
  configSchema: ldapConfigSchema,
  secretFields: LDAP_SECRET_FIELDS,
  // The bind DN may change on the same server; another server, or no StartTLS, needs the password again.
  secretsBoundTo: ['url', 'startTls'],
  async validate(db, _ctx, target) {
    const types = await allIdentifierTypes(db, target.coId);
    if (!types.includes(target.config.dnIdentifierType)) {
      throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_UNKNOWN, {
        field: 'config.dnIdentifierType',
        message: `Identifier type "${target.config.dnIdentifierType}" is not defined in this CO (known: ${types.join(', ')})`,
      });
    }
  },
  provision: provisionEntry,
};
