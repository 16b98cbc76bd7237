import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NoSuchObjectError, type Entry } from 'ldapts';
import type { Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { allIdentifierTypes } from '../../core/people/person.service.ts';
import type { PreviousState, ProvisionInput, ProvisionResult, Provisioner, Target } from '../../core/provisioning/provisioner.ts';
import type { Transaction } from 'kysely';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { Executor } from '../../db/database.ts';
import type { LdapProvisionerTables } from './ldap-entry-claim.table.ts';
import { ldapTargetSettingsSchema, type LdapConfig, type LdapTargetSettings } from './ldap-config.schema.ts';
import { ldapConnectionFor, ldapErrorOf, probeDirectory, valuesOf, type LdapConnection } from './ldap-connection.ts';
import { isWithinSubtree, modifyDnTarget, sameDn } from './ldap-dn.ts';
import { addAttributes, attributesToRead, changesFor, desiredEntry, dnOf, rdnValueOf, type DesiredEntry } from './ldap-entry.ts';
import { claimEntry, claimSnapshot, directoryKey, releaseClaims, type ClaimDb, type ClaimSnapshot } from './ldap-entry-claims.ts';
import { asLdapTarget, LDAP_PROVISIONER_TYPE, LdapProvisioningError, ldapEntryDetailOf, type ContributedValues, type LdapAttributeContributor, type LdapContribution, type LdapEntryDetail } from './ldap-extension.ts';
import { beginAdd, createdBy, endAdd, entryUuidAssertion, findOwnedEntry, firstValue, forgetOwnership, IDENTITY_ATTRIBUTES, isAssertionFailure, ownedUuidOf, recordOwnership, recordOwnershipIn, type OwnershipRecord, type OwnershipScope } from './ldap-ownership.ts';

/** What the contributors want in a new entry; asked only when an entry is about to be added. */
type Contributions = () => LdapContribution[];

/** Where claims and ownership are kept: undefined in unit tests of the LDAP writes alone. */
interface Scope {
  db: ClaimDb;
  clock: Clock;
  /** The worker's executor (its settle transaction) with this plugin's tables; without it, nothing waits for the settle. */
  tables?(db: Executor): ClaimDb | Transaction<CoreDatabase & LdapProvisionerTables>;
}

/** One person's run: the target (settings expanded and parsed), the input, and the scope. */
interface Run {
  input: ProvisionInput<LdapConfig>;
  config: LdapConfig;
  scope: Scope | undefined;
  /** Set when an add met an existing entry while the previous add's outcome had been lost. */
  lostAdd?: boolean;
}

function provisioned(dn: string, entry: string, contributed: Record<string, ContributedValues> | undefined, adopted: boolean, entryUuid: string | undefined): ProvisionResult {
  const detail: LdapEntryDetail = {
    entry,
    ...(contributed && Object.keys(contributed).length > 0 ? { seeded: contributed } : {}),
    ...(adopted ? { adopted: true } : {}),
    ...(entryUuid ? { entryUuid } : {}),
  };
  return { status: 'provisioned', targetKey: dn, detail };
}

function ownershipOf(scope: Scope | undefined): OwnershipScope | undefined {
  return scope ? { db: scope.db, clock: scope.clock } : undefined;
}

/** Adds the entry, reads its entryUUID back and records that Tessera created it. */
async function addEntry(run: Run, ldap: LdapConnection, entry: DesiredEntry, contributions: Contributions, claimMarked = false): Promise<ProvisionResult> {
  const { attributes, contributed } = addAttributes(entry, contributions());
  const ownership = ownershipOf(run.scope);
  const { url } = run.config;
  // A claim made just now for this add is marked already (and no earlier add can have been lost).
  const wasPending = ownership && !claimMarked ? await beginAdd(ownership, url, entry.dn, run.input.personId) : false;
  try {
    await ldap.add(entry.dn, attributes);
  } catch (error) {
    if (ownership && ldapErrorOf(error) instanceof AlreadyExistsError) {
      run.lostAdd = wasPending;
      await endAdd(ownership, url, entry.dn, run.input.personId);
    }
    throw error;
  }
  const uuid = firstValue((await ldap.read(entry.dn, ['entryUUID'])) ?? {}, 'entryUUID');
  if (ownership && uuid) {
    const record: OwnershipRecord = { url, uuid, coId: run.input.target.coId, targetId: run.input.target.id, personId: run.input.personId, dn: entry.dn, origin: 'created' };
    const { chunk } = run.input;
    const tables = run.scope?.tables;
    if (chunk && tables && soleWriterOf(run)) {
      // Recorded with the chunk's outcomes, in their transaction. Lost with them if the process
      // dies first: the claim stays marked "add under way", and the next run finds the entry its
      // lost add made (creatorsName) and records it then (takeOver).
      chunk.atSettle((db) => recordOwnershipIn(tables(db), ownership.clock, record, run.input.target.description, { endAdd: true }));
    } else {
      await recordOwnership(ownership, record, run.input.target.description, { endAdd: true });
    }
  }
  return provisioned(entry.dn, randomUUID(), contributed, false, uuid);
}

/**
 * An entry stands at the person's DN that this target has no record of (an add met it, or the
 * entry it created was replaced). It is taken over only if Tessera owns it for this CO (created
 * it, perhaps in a run whose outcome was lost), or if a platform admin switched on "adopt existing
 * entries" (recorded in history). Otherwise the job fails and nothing is written.
 */
async function takeOver(run: Run, entry: DesiredEntry, current: Entry): Promise<string | undefined> {
  const { input, config, scope } = run;
  const uuid = firstValue(current, 'entryUUID');
  const ownership = ownershipOf(scope);
  const owner = ownership && uuid ? await findOwnedEntry(ownership, config.url, uuid) : undefined;
  if (owner && owner.coId === input.target.coId) return uuid;
  if (owner) throw new LdapProvisioningError(`the entry ${entry.dn} is the entry of a person of another CO writing to the same directory; nothing was written. COs sharing a people subtree must not share DN identifier values: give the person another identifier`);
  if (ownership && uuid && run.lostAdd && createdBy(current, config.bindDn)) {
    await recordOwnership(ownership, { url: config.url, uuid, coId: input.target.coId, targetId: input.target.id, personId: input.personId, dn: entry.dn, origin: 'created' }, input.target.description);
    return uuid;
  }
  if (!config.adoptExistingEntries) {
    throw new LdapProvisioningError(
      `the entry ${entry.dn} exists in the directory and Tessera did not create it; nothing was written. Remove or rename that entry, give ${input.data!.person.displayName} another identifier, or (for a migration) ask a platform admin to switch on "adopt existing entries" for this target`,
    );
  }
  if (ownership && uuid) {
    await recordOwnership(ownership, { url: config.url, uuid, coId: input.target.coId, targetId: input.target.id, personId: input.personId, dn: entry.dn, origin: 'adopted' }, input.target.description);
  }
  return uuid;
}

/**
 * Reads the entry once and sends one modify if it differs (one add if it is missing). An entry
 * that is not the one recorded (or, without a record, not Tessera's) goes through takeOver first.
 */
async function reconcile(run: Run, ldap: LdapConnection, entry: DesiredEntry, contributions: Contributions, previous: PreviousState | undefined): Promise<ProvisionResult> {
  const recorded = ldapEntryDetailOf(previous);
  const current = await ldap.read(entry.dn, [...attributesToRead(entry), ...IDENTITY_ATTRIBUTES]);
  if (!current) return addEntry(run, ldap, entry, contributions);
  const uuid = firstValue(current, 'entryUUID');
  // Recorded and still the same entry; or written before entryUUIDs were recorded (the state says
  // Tessera wrote it): record it now.
  const known = recorded.entry !== undefined && (recorded.entryUuid === undefined || recorded.entryUuid === uuid);
  const taken = known ? uuid : await takeOver(run, entry, current);
  const ownership = ownershipOf(run.scope);
  if (known && recorded.entryUuid === undefined && ownership && uuid) {
    await recordOwnership(ownership, { url: run.config.url, uuid, coId: run.input.target.coId, targetId: run.input.target.id, personId: run.input.personId, dn: entry.dn, origin: 'created' }, run.input.target.description);
  }
  const changes = changesFor(entry, valuesOf(current));
  if (changes.length > 0) await ldap.modify(entry.dn, changes);
  // Same entry, same record; an entry taken over gets a new generation (and no contributed values),
  // marked adopted: values in it that Tessera did not write are for its token targets to clear.
  return known ? provisioned(entry.dn, recorded.entry!, recorded.seeded, recorded.adopted === true, uuid) : provisioned(entry.dn, randomUUID(), undefined, true, taken);
}

/**
 * Removes the person's entry at `dn` if it is Tessera's: with its recorded entryUUID, one delete
 * asserting that UUID (RFC 4528), so an entry someone put there since is left alone; without
 * one, only an entry the target's state says it wrote before UUIDs were recorded. Never an entry
 * Tessera has no record of creating. Returns why an entry was left in place, if one was.
 */
async function removeOwnedEntry(run: Run, ldap: () => Promise<LdapConnection>, dn: string): Promise<string | undefined> {
  const { input, config, scope } = run;
  const recorded = input.previous && input.previous.status !== 'removed' && input.previous.targetKey !== null && sameDn(input.previous.targetKey, dn) ? ldapEntryDetailOf(input.previous) : {};
  const ownership = ownershipOf(scope);
  const uuid = recorded.entryUuid ?? (ownership ? await ownedUuidOf(ownership, config.url, input.target.coId, input.personId, dn) : undefined);
  if (!uuid && recorded.entry === undefined) {
    // Removed before (nothing to do), or never provisioned: whatever stands at the DN is not Tessera's.
    return input.previous?.status === 'removed' && input.previous.targetKey !== null && sameDn(input.previous.targetKey, dn) ? undefined : `Tessera has no record of creating an entry at ${dn}, so it deleted none`;
  }
  try {
    await (await ldap()).del(dn, uuid ? entryUuidAssertion(uuid) : undefined);
  } catch (error) {
    const cause = ldapErrorOf(error);
    if (isAssertionFailure(cause)) return `${dn} is no longer the entry Tessera created (someone replaced it); left in place`;
    if (!(cause instanceof NoSuchObjectError)) throw error;
  }
  if (ownership && uuid) await forgetOwnership(ownership, config.url, uuid);
  return undefined;
}

/**
 * When the person can no longer be named in the directory (their naming identifier is gone) while
 * the target holds an entry for them, the entry goes at once (if it is Tessera's), with every
 * token value in it, so nothing binds as them; the job then fails saying so, until they are named again.
 */
async function withdrawUnnamed(run: Run, ldap: () => Promise<LdapConnection>, previousDn: string): Promise<never> {
  const { input, config, scope } = run;
  const left = await removeOwnedEntry(run, ldap, previousDn);
  if (scope) await releaseClaims(scope.db, input.target.id, input.personId);
  throw new LdapProvisioningError(
    `${input.data!.person.displayName} has no active identifier of type "${config.dnIdentifierType}", which names the LDAP entry (${config.dnAttribute}=…,${config.baseDn}); ${left ?? `their entry ${previousDn} was removed, with the token values in it, so nothing binds as them`}; add an identifier to provision them again`,
  );
}

/**
 * Is this the CO's only LDAP target writing to its directory? Then no other run of the chunk looks
 * for the record of an entry it creates, and that record may wait for the chunk's settle.
 */
function soleWriterOf(run: Run): boolean {
  const directory = directoryKey(run.config.url);
  return !run.input.targets.some((t) => t.id !== run.input.target.id && t.provisionerType === LDAP_PROVISIONER_TYPE && (typeof t.config.url !== 'string' || directoryKey(t.config.url) === directory));
}

/** The claims on the DNs of the people of the run's chunk, read once for the chunk (undefined outside a chunk). */
function chunkClaims(run: Run, scope: Scope): Promise<ClaimSnapshot> | undefined {
  const { chunk, target } = run.input;
  if (!chunk) return undefined;
  return chunk.once(`ldap:claims:${target.id}`, () => {
    const dns = chunk.personIds.flatMap((id) => {
      const data = chunk.dataOf(id);
      try {
        const dn = data ? dnOf(run.config, data) : undefined;
        return dn ? [dn] : [];
      } catch {
        // That person's own run says what is wrong with their DN.
        return [];
      }
    });
    return claimSnapshot(scope.db, run.config.url, dns);
  });
}

/** Parsed settings (as asLdapTarget keeps them) whose base DN was found within their server's subtrees. */
const placed = new WeakSet<LdapConfig>();

/** The target's settings with its server's; refuses a base DN outside the server's subtrees. */
function runOf(input: ProvisionInput<LdapTargetSettings>, scope: Scope | undefined): Run {
  const config = asLdapTarget(input.target)!.config;
  if (!placed.has(config) && config.subtrees.some((subtree) => isWithinSubtree(config.baseDn, subtree))) placed.add(config);
  if (!placed.has(config)) {
    throw new LdapProvisioningError(`the base DN ${config.baseDn} of LDAP target "${input.target.description}" lies outside the subtrees its LDAP server may write (${config.subtrees.join('; ') || 'none'}); nothing was written`);
  }
  return { input: { ...input, target: { ...input.target, config } }, config, scope };
}

/**
 * Reconciles a person's entry. LDAP operations per person: first provisioning (no previous state)
 * one add (holding what the contributors want in it, e.g. token hashes) and one base search that
 * reads its entryUUID back; with a previous state one base search, plus one modify only when
 * something differs (or an add and a search when the entry is missing); a changed DN adds one
 * modifyDN before that; removal one delete (asserting the recorded entryUUID).
 */
async function provisionEntry(rawInput: ProvisionInput<LdapTargetSettings>, contributors: readonly LdapAttributeContributor[], scope: Scope | undefined): Promise<ProvisionResult> {
  const run = runOf(rawInput, scope);
  const { input, config } = run;
  const connection = () => ldapConnectionFor(input.session, input.target.id, config);

  if (input.intent === 'absent' || !input.data) {
    const dn = input.previous?.targetKey ?? (input.data ? dnOf(config, input.data) : undefined);
    const left = dn ? await removeOwnedEntry(run, connection, dn) : undefined;
    if (scope) await releaseClaims(scope.db, input.target.id, input.personId);
    return { status: 'removed', targetKey: dn ?? null, ...(left ? { detail: { left } } : {}) };
  }

  const previousDn = input.previous && input.previous.status !== 'removed' ? input.previous.targetKey : null;
  if (previousDn && rdnValueOf(config, input.data) === undefined) return withdrawUnnamed(run, connection, previousDn);
  const entry = desiredEntry(config, input.data);
  // Before anything is written: the DN must be this person's, not another person's entry.
  // A new claim for a first add is marked "add under way" as it is made (one write instead of two).
  const known = scope ? await chunkClaims(run, scope) : undefined;
  const claimedNow = scope ? await claimEntry(scope.db, config.url, entry.dn, { coId: input.target.coId, targetId: input.target.id, personId: input.personId }, scope.clock.now(), { addPending: !previousDn, known }) : false;
  const request = { ldapTarget: input.target, targets: input.targets, data: input.data };
  const contributions = () => contributors.flatMap((c) => c.attributesFor(request));
  const ldap = await connection();
  if (!previousDn) {
    try {
      return await addEntry(run, ldap, entry, contributions, claimedNow);
    } catch (error) {
      // Made by hand, by another CO, or by a run whose outcome was lost: takeOver decides.
      if (!(ldapErrorOf(error) instanceof AlreadyExistsError)) throw error;
      return reconcile(run, ldap, entry, contributions, undefined);
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
  const result = await reconcile(run, ldap, entry, contributions, input.previous);
  if (scope && !sameDn(previousDn, entry.dn)) {
    // Renamed: the old DN is free for others, and the owned entry is recorded under its new DN.
    await releaseClaims(scope.db, input.target.id, input.personId, entry.dn);
    const uuid = ldapEntryDetailOf({ status: 'provisioned', targetKey: entry.dn, detail: result.detail ?? {} }).entryUuid;
    if (uuid) await scope.db.updateTable('ldap_owned_entry').set({ dn: entry.dn }).where('entry_uuid', '=', uuid).execute();
  }
  return result;
}

/** What the plugin gives the provisioner beyond contributors: the database and clock, and its servers. */
export interface LdapProvisionerScope extends Scope {
  /** Settings of the target's server, for `expandConfig`; see `serverSettingsForTarget`. */
  serverSettings(db: Executor, target: Target): Promise<Record<string, unknown>>;
  /** The LDAP servers assigned to the CO, as choices of `serverId`. */
  serverChoices(db: Executor, coId: string): Promise<Array<{ value: string; label: string }>>;
  /** Refuses a server not assigned to the CO or a base DN outside its subtrees (AppError). */
  checkPlacement(db: Executor, coId: string, config: Record<string, unknown>): Promise<void>;
}

/**
 * The `ldap` provisioner type. `contributors` are read at each entry creation, so contributors
 * registered after this call (by plugins set up later) take part. `scope`: where DNs are claimed
 * (ldap_entry_claim, so two people never share an entry), entries Tessera owns are recorded
 * (ldap_owned_entry), and LDAP servers are found; the plugin always gives it. A CO admin's settings
 * (`ldapTargetSettingsSchema`) hold no URL or credential: the server's are merged in for the run.
 */
export function ldapProvisioner(contributors: readonly LdapAttributeContributor[] = [], scope?: LdapProvisionerScope): Provisioner<typeof ldapTargetSettingsSchema> {
  return {
    type: LDAP_PROVISIONER_TYPE,
    label: 'LDAP',
    configSchema: ldapTargetSettingsSchema,
    secretFields: [],
    async validate(db, _ctx, target) {
      const types = await allIdentifierTypes(db, target.coId);
      if (!types.includes(target.config.dnIdentifierType)) {
        throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_UNKNOWN, {
          field: 'config.dnIdentifierType',
          message: `Identifier type "${target.config.dnIdentifierType}" is not defined in this CO (known: ${types.join(', ')})`,
        });
      }
      await scope?.checkPlacement(db, target.coId, target.config);
    },
    ...(scope
      ? {
          expandConfig: (db: Executor, target: Target) => scope.serverSettings(db, target),
          choices: async (db: Executor, coId: string) => ({ serverId: await scope.serverChoices(db, coId) }),
        }
      : {}),
    // The run gets the settings expanded with the server's (expandConfig), parsed again in runOf.
    provision: (input) => provisionEntry(input, contributors, scope),
    // Held jobs (the directory was down) go again as soon as a connect and bind works.
    probe: async (target) => {
      const ldapTarget = asLdapTarget(target);
      if (!ldapTarget) throw new LdapProvisioningError(`the settings of LDAP target "${target.description}" are incomplete`);
      await probeDirectory(target.id, ldapTarget.config);
    },
  };
}
