// Which directory entries are Tessera's. An entry is Tessera's when Tessera created it (its
// entryUUID, RFC 4530, read back after the add) or when a platform admin let the target adopt
// existing entries and it did (recorded in history). Only such entries are taken over, rewritten
// wholesale or deleted; anything else that stands where a person's entry should be is left alone.
import { BerWriter, Control, EqualityFilter, ResultCodeError } from 'ldapts';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import { recordHistory } from '../../core/history/history.service.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import { sameDn } from './ldap-dn.ts';
import { directoryKey, dnKey } from './ldap-entry-claims.ts';
import type { LdapProvisionerTables } from './ldap-entry-claim.table.ts';

/** The operational attributes that say which entry this is and who made it. */
export const IDENTITY_ATTRIBUTES = ['entryUUID', 'creatorsName'];

/** LDAP result 122, assertionFailed (RFC 4528 §5). */
export const ASSERTION_FAILED = 122;

/**
 * The Assertion control (RFC 4528, OID 1.3.6.1.1.12), critical: the operation runs only if the
 * entry matches the filter, else it fails with assertionFailed (122) and changes nothing. Used to
 * delete an entry only if it is still the one Tessera created (its entryUUID), in one operation.
 */
export class AssertionControl extends Control {
  constructor(private readonly filter: EqualityFilter) {
    super('1.3.6.1.1.12', { critical: true });
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    this.filter.write(value);
    writer.writeBuffer(value.buffer, 0x04);
  }
}

/** An Assertion control that holds while the entry's entryUUID is `uuid`. */
export function entryUuidAssertion(uuid: string): AssertionControl {
  return new AssertionControl(new EqualityFilter({ attribute: 'entryUUID', value: uuid }));
}

/** Did the operation fail only because the entry is not the asserted one? */
export function isAssertionFailure(error: unknown): boolean {
  return error instanceof ResultCodeError && error.code === ASSERTION_FAILED;
}

/** The first value of an attribute of an entry as ldapts returns it (names compared without case). */
export function firstValue(entry: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const raw = key === undefined ? undefined : entry[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** Who owns an entry, as Tessera recorded it. */
export interface OwnedEntry {
  coId: string;
  personId: string;
  origin: 'created' | 'adopted';
}

/** Where ownership is recorded, and for whom. */
export interface OwnershipScope {
  db: Kysely<CoreDatabase & LdapProvisionerTables>;
  clock: Clock;
}

export async function findOwnedEntry(scope: OwnershipScope, url: string, uuid: string): Promise<OwnedEntry | undefined> {
  const row = await scope.db.selectFrom('ldap_owned_entry').select(['co_id', 'person_id', 'origin']).where('directory', '=', directoryKey(url)).where('entry_uuid', '=', uuid).executeTakeFirst();
  return row ? { coId: row.co_id, personId: row.person_id, origin: row.origin } : undefined;
}

/** The entryUUID of the person's entry as recorded by this CO in this directory at this DN, if any. */
export async function ownedUuidOf(scope: OwnershipScope, url: string, coId: string, personId: string, dn: string): Promise<string | undefined> {
  const rows = await scope.db.selectFrom('ldap_owned_entry').select(['entry_uuid', 'dn']).where('directory', '=', directoryKey(url)).where('co_id', '=', coId).where('person_id', '=', personId).execute();
  return rows.find((r) => sameDn(r.dn, dn))?.entry_uuid;
}

/** What is recorded about an entry Tessera now owns. */
export interface OwnershipRecord {
  url: string;
  uuid: string;
  coId: string;
  targetId: string;
  personId: string;
  dn: string;
  origin: 'created' | 'adopted';
}

/**
 * Records that Tessera owns the entry (idempotent); an adoption also goes into the CO's history.
 * With `endAdd`, the add that made it is marked done (see `endAdd`) in the same transaction.
 */
export async function recordOwnership(scope: OwnershipScope, record: OwnershipRecord, targetDescription: string, options: { endAdd?: boolean } = {}): Promise<void> {
  await scope.db.transaction().execute((trx) => recordOwnershipIn(trx, scope.clock, record, targetDescription, options));
}

/** `recordOwnership` inside the caller's transaction `trx` (e.g. the worker's settle of a chunk). */
export async function recordOwnershipIn(trx: OwnershipScope['db'] | Transaction<CoreDatabase & LdapProvisionerTables>, clock: Clock, record: OwnershipRecord, targetDescription: string, options: { endAdd?: boolean } = {}): Promise<void> {
  const directory = directoryKey(record.url);
  const now = clock.now().toISOString();
  await trx.deleteFrom('ldap_owned_entry').where('directory', '=', directory).where('entry_uuid', '=', record.uuid).execute();
  await trx
    .insertInto('ldap_owned_entry')
    .values({ directory, entry_uuid: record.uuid, co_id: record.coId, target_id: record.targetId, person_id: record.personId, dn: record.dn, origin: record.origin, recorded_at: now })
    .execute();
  if (options.endAdd) await endAddIn(trx, record.url, record.dn, record.personId);
  if (record.origin === 'adopted') {
    await recordHistory(trx, clock, SYSTEM_ACTOR, {
      coId: record.coId,
      personId: record.personId,
      action: 'LDAP_ENTRY_ADOPTED',
      comment: `LDAP target "${targetDescription}" adopted the existing entry ${record.dn} (entryUUID ${record.uuid}), which Tessera had not created, because a platform admin switched on "adopt existing entries"`,
    });
  }
}

/** Forgets the entry (it was deleted). */
export async function forgetOwnership(scope: OwnershipScope, url: string, uuid: string): Promise<void> {
  await scope.db.deleteFrom('ldap_owned_entry').where('directory', '=', directoryKey(url)).where('entry_uuid', '=', uuid).execute();
}

/**
 * Marks the person's claim on `dn` as "an add is under way" and says whether it was marked
 * already: then the previous add's outcome was lost (a crash or a dropped connection after the
 * add was sent), and an entry found at the DN is the one that add made.
 */
export async function beginAdd(scope: OwnershipScope, url: string, dn: string, personId: string): Promise<boolean> {
  // By the claim's key (directory, DN key): one index lookup, whatever the number of claims.
  const claim = scope.db.selectFrom('ldap_entry_claim').select('add_pending').where('directory', '=', directoryKey(url)).where('dn_key', '=', dnKey(dn)).where('person_id', '=', personId);
  const row = await claim.executeTakeFirst();
  if (!row) return false;
  if (row.add_pending !== 1) await scope.db.updateTable('ldap_entry_claim').set({ add_pending: 1 }).where('directory', '=', directoryKey(url)).where('dn_key', '=', dnKey(dn)).where('person_id', '=', personId).execute();
  return row.add_pending === 1;
}

/** The add's outcome is known (made, or refused because an entry exists). */
export async function endAdd(scope: OwnershipScope, url: string, dn: string, personId: string): Promise<void> {
  await endAddIn(scope.db, url, dn, personId);
}

async function endAddIn(db: OwnershipScope['db'] | Transaction<CoreDatabase & LdapProvisionerTables>, url: string, dn: string, personId: string): Promise<void> {
  await db.updateTable('ldap_entry_claim').set({ add_pending: 0 }).where('directory', '=', directoryKey(url)).where('dn_key', '=', dnKey(dn)).where('person_id', '=', personId).where('add_pending', '=', 1).execute();
}

/** Did the server's bind DN create this entry (its creatorsName, RFC 4512 §3.4.1)? */
export function createdBy(entry: Record<string, unknown>, bindDn: string): boolean {
  const creator = firstValue(entry, 'creatorsName');
  return creator !== undefined && sameDn(creator, bindDn);
}
