import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NoSuchObjectError } from 'ldapts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { allIdentifierTypes } from '../../core/people/person.service.ts';
import type { PreviousState, ProvisionInput, ProvisionResult, Provisioner } from '../../core/provisioning/provisioner.ts';
import { LDAP_SECRET_FIELDS, ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';
import { ldapConnectionFor, ldapErrorOf, type LdapConnection } from './ldap-connection.ts';
import { modifyDnTarget, sameDn } from './ldap-dn.ts';
import { addAttributes, attributesToRead, changesFor, desiredEntry, dnOf, LdapProvisioningError, valuesOf, type DesiredEntry } from './ldap-entry.ts';

export const LDAP_PROVISIONER_TYPE = 'ldap';

/**
 * What an `ldap` target records per person (provisioning_state.detail). `entry` changes whenever
 * this target creates the entry anew, so a provisioner writing into the entry (the token
 * provisioner) knows its own record of the entry's values may be stale and must read it.
 */
export interface LdapEntryDetail {
  entry?: string;
}

/** The generation of the person's entry in an `ldap` target, if the target recorded one. */
export function entryGenerationOf(state: PreviousState | undefined): string | undefined {
  const entry = state?.detail.entry;
  return typeof entry === 'string' ? entry : undefined;
}

function provisioned(dn: string, entry: string): ProvisionResult {
  return { status: 'provisioned', targetKey: dn, detail: { entry } satisfies LdapEntryDetail };
}

/** Reads the entry once and sends one modify if it differs (one add if it is missing). */
async function reconcile(ldap: LdapConnection, entry: DesiredEntry, generation: string | undefined): Promise<ProvisionResult> {
  const current = await ldap.read(entry.dn, attributesToRead(entry));
  if (!current) {
    await ldap.add(entry.dn, addAttributes(entry));
    return provisioned(entry.dn, randomUUID());
  }
  const changes = changesFor(entry, valuesOf(current));
  if (changes.length > 0) await ldap.modify(entry.dn, changes);
  return provisioned(entry.dn, generation ?? randomUUID());
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
 * one add; with a previous state one base search, plus one modify only when something differs;
 * a changed DN adds one modifyDN before that; removal one delete.
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
  const ldap = await connection();
  const previousDn = input.previous && input.previous.status !== 'removed' ? input.previous.targetKey : null;
  if (!previousDn) {
    try {
      await ldap.add(entry.dn, addAttributes(entry));
      return provisioned(entry.dn, randomUUID());
    } catch (error) {
      // Made by hand or by a run whose outcome was lost: take it over, holding exactly our values.
      if (!(ldapErrorOf(error) instanceof AlreadyExistsError)) throw error;
      return reconcile(ldap, entry, undefined);
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
  return reconcile(ldap, entry, entryGenerationOf(input.previous));
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
