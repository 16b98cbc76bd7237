import type { Executor } from '../../db/database.ts';
import type { PersonStatus } from '../people/person.table.ts';
import type { SourceEmailRecord, SourceIdentifierRecord, SourceNameRecord, SourcePersonRecord } from './source-records.ts';

/*
 * What a source owns of a person, in one canonical form both for records the source sends and for
 * rows in the database, so "did anything change?" is a string comparison: the writer uses it for one
 * person, the reconciler for a whole snapshot (100,000 people compared in memory, no write).
 */

/** A name as stored: NFC text, null for empty parts, one primary. */
export interface NameValue {
  given: string;
  middle: string | null;
  family: string | null;
  suffix: string | null;
  type: string;
  primary: boolean;
}
export interface IdentifierValue {
  identifier: string;
  type: string;
  login: boolean;
}
export interface EmailValue {
  mail: string;
  type: string;
  verified: boolean;
}

/** A person's source-owned state in canonical form. */
export interface PersonValue {
  status: PersonStatus;
  names: NameValue[];
  identifiers: IdentifierValue[];
  emails: EmailValue[];
}

const nfc = (v: string | null | undefined): string | null => (v === null || v === undefined || v === '' ? null : v.normalize('NFC'));

/** Keys that identify a part: two parts with one key are the same row, maybe with other attributes. */
export const nameKey = (n: NameValue): string => JSON.stringify([n.given, n.middle, n.family, n.suffix, n.type]);
export const identifierKeyOf = (i: IdentifierValue): string => JSON.stringify([i.type, i.identifier]);
export const emailKey = (e: EmailValue): string => JSON.stringify([e.type, e.mail]);

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The canonical form of names a source sends: NFC, duplicates dropped, exactly one primary when any. */
export function normaliseNames(names: SourceNameRecord[]): NameValue[] {
  const values = names
    .filter((n) => nfc(n.given) !== null)
    .map((n) => ({ given: nfc(n.given)!, middle: nfc(n.middle), family: nfc(n.family), suffix: nfc(n.suffix), type: n.type, primary: n.primary === true }));
  const primaryAt = Math.max(0, values.findIndex((n) => n.primary));
  const primaryKey = values[primaryAt] ? nameKey(values[primaryAt]) : '';
  return dedupe(values, nameKey).map((n) => ({ ...n, primary: nameKey(n) === primaryKey }));
}

export function normaliseIdentifiers(ids: SourceIdentifierRecord[]): IdentifierValue[] {
  return dedupe(
    ids.filter((i) => nfc(i.identifier) !== null).map((i) => ({ identifier: nfc(i.identifier)!, type: i.type, login: i.login === true })),
    identifierKeyOf,
  );
}

export function normaliseEmails(emails: SourceEmailRecord[]): EmailValue[] {
  return dedupe(
    emails.filter((e) => nfc(e.mail) !== null).map((e) => ({ mail: nfc(e.mail)!, type: e.type, verified: e.verified === true })),
    emailKey,
  );
}

/** The canonical form of a record a source sends. */
export function personValueOf(record: SourcePersonRecord): PersonValue {
  return { status: record.status, names: normaliseNames(record.names), identifiers: normaliseIdentifiers(record.identifiers), emails: normaliseEmails(record.emails) };
}

/** One string that differs exactly when two canonical states differ. */
export function fingerprint(value: PersonValue): string {
  return JSON.stringify([value.status, value.names, value.identifiers, value.emails]);
}

/** A source person as stored: the person's id and canonical source-owned state. */
export interface StoredSourcePerson {
  personId: string;
  externalId: string;
  value: PersonValue;
}

/**
 * Every person a source brought into the CO, with their source-owned names, identifiers and
 * emails, in five queries whatever their number (`personIds` narrows it to some of them). Rows
 * made in Tessera (source_id null) are not read.
 */
export async function loadSourcePeople(db: Executor, coId: string, sourceId: string, personIds?: string[]): Promise<Map<string, StoredSourcePerson>> {
  let people = db.selectFrom('co_person').select(['id', 'external_id', 'status']).where('co_id', '=', coId).where('source_id', '=', sourceId);
  let names = db.selectFrom('name').select(['person_id', 'given', 'middle', 'family', 'suffix', 'type', 'primary_name']).where('co_id', '=', coId).where('source_id', '=', sourceId);
  let identifiers = db.selectFrom('identifier').select(['person_id', 'identifier', 'type', 'login']).where('co_id', '=', coId).where('source_id', '=', sourceId);
  let emails = db.selectFrom('email_address').select(['person_id', 'mail', 'type', 'verified']).where('co_id', '=', coId).where('source_id', '=', sourceId);
  if (personIds) {
    people = people.where('id', 'in', personIds);
    names = names.where('person_id', 'in', personIds);
    identifiers = identifiers.where('person_id', 'in', personIds);
    emails = emails.where('person_id', 'in', personIds);
  }
  const byPerson = new Map<string, StoredSourcePerson>();
  const byExternal = new Map<string, StoredSourcePerson>();
  for (const p of await people.execute()) {
    const stored = { personId: p.id, externalId: p.external_id ?? '', value: { status: p.status, names: [], identifiers: [], emails: [] } as PersonValue };
    byPerson.set(p.id, stored);
    byExternal.set(stored.externalId, stored);
  }
  for (const n of await names.execute()) {
    byPerson.get(n.person_id)?.value.names.push({ given: n.given, middle: n.middle, family: n.family, suffix: n.suffix, type: n.type, primary: n.primary_name === 1 });
  }
  for (const i of await identifiers.execute()) byPerson.get(i.person_id)?.value.identifiers.push({ identifier: i.identifier, type: i.type, login: i.login === 1 });
  for (const e of await emails.execute()) byPerson.get(e.person_id)?.value.emails.push({ mail: e.mail, type: e.type, verified: e.verified === 1 });
  for (const stored of byPerson.values()) {
    const v = stored.value;
    v.names = dedupe(v.names, nameKey);
    v.identifiers = dedupe(v.identifiers, identifierKeyOf);
    v.emails = dedupe(v.emails, emailKey);
  }
  return byExternal;
}
