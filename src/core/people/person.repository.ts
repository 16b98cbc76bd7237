import { sql } from 'kysely';
import type { CoreDatabase } from '../../db/core-tables.ts';
import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { countRows, type PageCount } from '../../db/count-rows.ts';
import { isId } from '../../db/ids.ts';
import { takesRowLocks } from '../../db/transaction.ts';
import { unindexed } from '../../db/index-hints.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { CASE_EXACT_IDENTIFIER_TYPES, identifierIgnoresCase, identifierKey } from '../text.ts';
import { emailTerms, identifierTerms, insertSearchTerms, nameTerms } from './person-search-terms.ts';
import type { CoIdentifierTypeTable, CoPersonTable, EmailAddressTable, IdentifierTable, NameTable, PersonStatus } from './person.table.ts';

/** A name of a person (COmanage Name): given is required, one name is primary. */
export interface PersonName {
  id: string;
  given: string;
  middle: string | null;
  family: string | null;
  suffix: string | null;
  type: string;
  primary: boolean;
  /** The source that owns this name (src/core/sources/); absent when made in Tessera. */
  sourceId?: string | null;
}
/** An identifier of a person; `login` maps an authenticated username to them. */
export interface PersonIdentifier {
  id: string;
  identifier: string;
  type: string;
  login: boolean;
  status: string;
  /** The source that owns this identifier, absent when made in Tessera. */
  sourceId?: string | null;
}
/** An email address of a person; only verified ones receive notices. */
export interface PersonEmail {
  id: string;
  mail: string;
  type: string;
  verified: boolean;
  /** The source that owns this address, absent when made in Tessera. */
  sourceId?: string | null;
}

/** A CO Person with everything hanging off them, as services return it. */
export interface Person {
  id: string;
  coId: string;
  status: PersonStatus;
  displayName: string;
  names: PersonName[];
  identifiers: PersonIdentifier[];
  emails: PersonEmail[];
  /** The source that brought the person in and owns their status (src/core/sources/), absent for a person made in Tessera. */
  source?: { id: string; name: string; externalId: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** The name as one line: given, middle, family and suffix, skipping empty parts. */
export function formatName(n: Pick<PersonName, 'given' | 'middle' | 'family' | 'suffix'>): string {
  return [n.given, n.middle, n.family, n.suffix].filter((p) => p && p.length > 0).join(' ');
}

const toName = (r: NameTable): PersonName => ({
  id: r.id,
  given: r.given,
  middle: r.middle,
  family: r.family,
  suffix: r.suffix,
  type: r.type,
  primary: r.primary_name === 1,
  ...(r.source_id ? { sourceId: r.source_id } : {}),
});
const toIdentifier = (r: IdentifierTable): PersonIdentifier => ({
  id: r.id,
  identifier: r.identifier,
  type: r.type,
  login: r.login === 1,
  status: r.status,
  ...(r.source_id ? { sourceId: r.source_id } : {}),
});
const toEmail = (r: EmailAddressTable): PersonEmail => ({ id: r.id, mail: r.mail, type: r.type, verified: r.verified === 1, ...(r.source_id ? { sourceId: r.source_id } : {}) });

/** Loads people with their names, identifiers and emails, in four queries whatever their number. */
export async function loadPeople(db: Executor, coId: string, rows: CoPersonTable[]): Promise<Person[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const sourceIds = [...new Set(rows.flatMap((r) => (r.source_id ? [r.source_id] : [])))];
  // By the people's own indexes: SQLite would otherwise take the CO's (co_id, type, match_key)
  // index for the identifiers' order and scan every identifier of the CO.
  const [names, identifiers, emails, sources] = await Promise.all([
    db.selectFrom('name').selectAll().where('co_id', '=', coId).where('person_id', 'in', ids).orderBy('primary_name', 'desc').orderBy('id').execute(),
    db.selectFrom('identifier').selectAll().where(unindexed(db, 'co_id'), '=', coId).where('person_id', 'in', ids).orderBy('type').orderBy('identifier').execute(),
    db.selectFrom('email_address').selectAll().where('co_id', '=', coId).where('person_id', 'in', ids).orderBy('mail').execute(),
    sourceIds.length ? db.selectFrom('source').select(['id', 'name']).where('co_id', '=', coId).where('id', 'in', sourceIds).execute() : Promise.resolve([]),
  ]);
  const sourceNames = new Map(sources.map((s) => [s.id, s.name]));
  return rows.map((r) => {
    const personNames = names.filter((n) => n.person_id === r.id).map(toName);
    const primary = personNames.find((n) => n.primary) ?? personNames[0];
    return {
      id: r.id,
      coId: r.co_id,
      status: r.status,
      displayName: primary ? formatName(primary) : '(no name)',
      names: personNames,
      identifiers: identifiers.filter((i) => i.person_id === r.id).map(toIdentifier),
      emails: emails.filter((e) => e.person_id === r.id).map(toEmail),
      ...(r.source_id ? { source: { id: r.source_id, name: sourceNames.get(r.source_id) ?? r.source_id, externalId: r.external_id ?? '' } } : {}),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  });
}

/** One person of the CO with names, identifiers and emails; undefined for a malformed id or another CO's person. */
export async function findPerson(db: Executor, coId: string, personId: string): Promise<Person | undefined> {
  if (!isId(personId)) return undefined;
  const row = await db.selectFrom('co_person').selectAll().where('co_id', '=', coId).where('id', '=', personId).executeTakeFirst();
  if (!row) return undefined;
  return (await loadPeople(db, coId, [row]))[0];
}

/** The identifier types the CO added to the built-in ones, by name. */
export async function identifierTypesOf(db: Executor, coId: string): Promise<string[]> {
  const rows = await db.selectFrom('co_identifier_type').select('name').where('co_id', '=', coId).orderBy('name').execute();
  return rows.map((r) => r.name);
}

/** The CO's people with these ids, in a few queries however many there are. */
export async function findPeopleByIds(db: Executor, coId: string, ids: string[]): Promise<Map<string, Person>> {
  const out = new Map<string, Person>();
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const rows = await db.selectFrom('co_person').selectAll().where('co_id', '=', coId).where('id', 'in', chunk).execute();
    for (const person of await loadPeople(db, coId, rows)) out.set(person.id, person);
  }
  return out;
}

/** The person's status, or undefined when the CO has no such person (one small query). */
export async function findPersonStatus(db: Executor, coId: string, personId: string): Promise<PersonStatus | undefined> {
  if (!isId(personId)) return undefined;
  const row = await db.selectFrom('co_person').select('status').where('co_id', '=', coId).where('id', '=', personId).executeTakeFirst();
  return row?.status;
}

/**
 * Locks the person's row for the rest of the transaction, after the CO (see the lock order in
 * src/db/transaction.ts): `write` for a change to the person or what hangs off them, `delete` to
 * remove them, `keep` to only keep them from being deleted (e.g. while history about them is
 * written). Returns whether the person exists in the CO; a person deleted by a transaction that
 * committed meanwhile is gone. On SQLite (no row locks) it only reads.
 */
export async function lockPerson(db: Executor, coId: string, personId: string, mode: 'write' | 'delete' | 'keep'): Promise<boolean> {
  if (!isId(personId)) return false;
  const query = db.selectFrom('co_person').select('id').where('co_id', '=', coId).where('id', '=', personId);
  if (!takesRowLocks(db)) return (await query.executeTakeFirst()) !== undefined;
  const locked = mode === 'write' ? query.forNoKeyUpdate() : mode === 'delete' ? query.forUpdate() : query.forKeyShare();
  return (await locked.executeTakeFirst()) !== undefined;
}

/**
 * A page of the ids of the CO's people whose status is one of `statuses`, oldest first (then by
 * id), walking the index `co_person_co_created_idx`: `limit` ids after `offset`.
 */
export async function personIdsWithStatus(db: Executor, coId: string, statuses: readonly PersonStatus[], page: { limit: number; offset: number }): Promise<string[]> {
  if (statuses.length === 0) return [];
  const rows = await db.selectFrom('co_person').select('id').where('co_id', '=', coId).where('status', 'in', statuses).orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute();
  return rows.map((r) => r.id);
}

/** How many of the CO's people have one of `statuses`; with `upTo`, counting stops past it ("at least upTo"). */
export async function countPeopleWithStatus(db: Executor, coId: string, statuses: readonly PersonStatus[], upTo?: number): Promise<PageCount> {
  if (statuses.length === 0) return { total: 0, totalIsAtLeast: false };
  // A constant, not the id: the count is then read from `co_person_co_idx` (co_id, status) alone.
  const rows = db.selectFrom('co_person').select(sql<number>`1`.as('one')).where('co_id', '=', coId).where('status', 'in', statuses);
  return countRows(db, rows, upTo);
}

/** Inserts the co_person row only; names, identifiers and emails are inserted beside it. */
export async function insertPerson(db: Executor, row: CoPersonTable): Promise<void> {
  await db.insertInto('co_person').values(row).execute();
}

/** Changes the person's status and/or `updated_at`, in their CO only. */
export async function updatePerson(db: Executor, coId: string, personId: string, patch: Partial<Pick<CoPersonTable, 'status' | 'updated_at'>>): Promise<void> {
  await db.updateTable('co_person').set(patch).where('co_id', '=', coId).where('id', '=', personId).execute();
}

/** Deletes the person; names, identifiers, emails and memberships go with them (ON DELETE CASCADE). */
export async function deletePersonRow(db: Executor, coId: string, personId: string): Promise<void> {
  await db.deleteFrom('co_person').where('co_id', '=', coId).where('id', '=', personId).execute();
}

/** Inserts a name; the caller keeps "one primary name" true (see `clearPrimaryName`). */
export async function insertName(db: Executor, row: NameTable): Promise<void> {
  await db.insertInto('name').values(row).execute();
  await insertSearchTerms(db, [{ coId: row.co_id, personId: row.person_id, partId: row.id, terms: nameTerms(row) }]);
}

/** Makes none of the person's names primary, before another one becomes primary. */
export async function clearPrimaryName(db: Executor, coId: string, personId: string): Promise<void> {
  await db.updateTable('name').set({ primary_name: 0 }).where('co_id', '=', coId).where('person_id', '=', personId).execute();
}

/**
 * Inserts an identifier, in NFC, with its `match_key` (`identifierKey`). A value of this type the
 * CO has already, as the directory compares them (`AdaQ` is `adaq` for a uid, NFD `zoë` is NFC
 * `zoë`), is IDENTIFIER_TAKEN (409) on `field`, naming the spelling that holds it; two inserts at
 * once meet the unique index `identifier_co_type_key_uq` instead, with the same error.
 */
export async function insertIdentifier(db: Executor, row: Omit<IdentifierTable, 'match_key'>, field = 'identifier'): Promise<void> {
  const identifier = row.identifier.normalize('NFC');
  const matchKey = identifierKey(row.type, identifier);
  const holder = await db.selectFrom('identifier').select('identifier').where('co_id', '=', row.co_id).where('type', '=', row.type).where('match_key', '=', matchKey).executeTakeFirst();
  if (holder) {
    const same = holder.identifier === identifier;
    throw new AppError(CORE_ERRORS.IDENTIFIER_TAKEN, {
      field,
      ...(same
        ? {}
        : { message: `The ${row.type} identifier "${identifier}" exists already in this CO as "${holder.identifier}": the directory ${identifierIgnoresCase(row.type) ? 'ignores case and Unicode form' : 'compares Unicode NFC'}, so they would name one entry` }),
    });
  }
  await mapUniqueViolation(db.insertInto('identifier').values({ ...row, identifier, match_key: matchKey }).execute(), () => new AppError(CORE_ERRORS.IDENTIFIER_TAKEN, { field }));
  await insertSearchTerms(db, [{ coId: row.co_id, personId: row.person_id, partId: row.id, terms: identifierTerms(identifier) }]);
}

/** Inserts an email address. */
export async function insertEmail(db: Executor, row: EmailAddressTable): Promise<void> {
  await db.insertInto('email_address').values(row).execute();
  await insertSearchTerms(db, [{ coId: row.co_id, personId: row.person_id, partId: row.id, terms: emailTerms(row.mail) }]);
}

/** Deletes one name, identifier or email address of the CO by id; its search terms go with it (a trigger, migration 20261228010000). */
export async function deletePersonPart(db: Executor, table: 'name' | 'identifier' | 'email_address', coId: string, id: string): Promise<void> {
  await db.deleteFrom(table).where('co_id', '=', coId).where('id', '=', id).execute();
}

/**
 * Adds an identifier type to the CO. A name the CO has already (`co_identifier_type_name_uq`, e.g.
 * two requests at once) is IDENTIFIER_TYPE_TAKEN (409) on `name`.
 */
export async function insertIdentifierType(db: Executor, row: CoIdentifierTypeTable): Promise<void> {
  await mapUniqueViolation(db.insertInto('co_identifier_type').values(row).execute(), () => new AppError(CORE_ERRORS.IDENTIFIER_TYPE_TAKEN, { field: 'name' }));
}

/** The person's verified email addresses with their types (official, preferred, …). */
export async function verifiedEmailsOf(db: Executor, coId: string, personId: string): Promise<Array<{ mail: string; type: string }>> {
  return db.selectFrom('email_address').select(['mail', 'type']).where('co_id', '=', coId).where('person_id', '=', personId).where('verified', '=', 1).execute();
}

/**
 * A name a sign-in method vouches for: a value of one identifier type (local accounts: `uid`; OpenID
 * Connect: `oidcsub` or the configured type; the trusted header: its configured type). Sign-in
 * matches login identifiers of that type only, so a value chosen at one source never reaches
 * another type's holder (a `preferred_username` of "admin" is not the uid "admin").
 */
export interface LoginName {
  type: string;
  value: string;
}

/** The person of the CO whose login identifier of this type has this value (compared by `identifierKey`), if any. */
export async function findLoginPersonId(db: Executor, coId: string, login: LoginName): Promise<string | undefined> {
  const row = await db
    .selectFrom('identifier')
    .select('person_id')
    .where('co_id', '=', coId)
    .where('type', '=', login.type)
    .where('match_key', '=', identifierKey(login.type, login.value))
    .where('login', '=', 1)
    .executeTakeFirst();
  return row?.person_id;
}

/** A person an authenticated name is, in one CO, with what sign-in needs of the person and the CO. */
export interface LoginPerson {
  personId: string;
  coId: string;
  status: PersonStatus;
  coIsPlatform: boolean;
  coSuspended: boolean;
}

/**
 * Every undeleted person whose active login identifier of the name's type has the name's value,
 * across all COs, oldest first. Values are compared by `identifierKey`, as the directory compares
 * them: `ADA` is the uid `ada`, while an `oidcsub` is compared exactly. Deliberately not scoped by
 * CO: this is how sign-in finds the COs a name belongs to.
 */
export async function findLoginPeople(db: Executor, login: LoginName): Promise<LoginPerson[]> {
  const rows = await db
    .selectFrom('identifier as i')
    .innerJoin('co_person as p', 'p.id', 'i.person_id')
    .innerJoin('co', 'co.id', 'p.co_id')
    .select(['p.id as person_id', 'p.co_id', 'p.status', 'co.is_platform', 'co.status as co_status'])
    .where('i.type', '=', login.type)
    .where('i.match_key', '=', identifierKey(login.type, login.value))
    .where('i.login', '=', 1)
    .where('i.status', '=', 'active')
    .where('p.status', '!=', 'deleted')
    .orderBy('p.created_at')
    .execute();
  return rows.map((r) => ({ personId: r.person_id, coId: r.co_id, status: r.status, coIsPlatform: r.is_platform === 1, coSuspended: r.co_status === 'suspended' }));
}

/** Ids of every person of the CO, whatever their status (for reconciling a whole CO). */
export async function listPersonIdsOfCo(db: Executor, coId: string): Promise<string[]> {
  const rows = await db.selectFrom('co_person').select('id').where('co_id', '=', coId).orderBy('id').execute();
  return rows.map((r) => r.id);
}
