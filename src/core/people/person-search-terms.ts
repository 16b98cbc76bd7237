import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';

/**
 * The People search finds a person when one of their search terms starts with the search text,
 * both folded by the database's lower() (ASCII only on SQLite, the database's locale on
 * PostgreSQL, as the search did when it was a LIKE over the rows) and put in Unicode NFC:
 * - a name: its full form "given middle family" and every part of it that starts at a word, so
 *   "Émilie du Châtelet" is found by "émilie", "du châtelet" and "Châtelet";
 * - an identifier, whole;
 * - an email address, whole, and its domain ("navy.example" finds grace@navy.example).
 * An exact value is its own prefix, so exact and prefix search are the same range lookup on the
 * index `person_search_term_co_term_idx` (co_id, term).
 */
export const SEARCH_TERM_SOURCES = ['name', 'identifier', 'email_address'] as const;

/** The raw (not yet lowercased) terms of a name: the whole of given/middle/family and each word-start suffix of it. */
export function nameTerms(n: { given: string; middle: string | null; family: string | null }): string[] {
  const words = [n.given, n.middle, n.family]
    .filter((p): p is string => p !== null)
    .join(' ')
    .normalize('NFC')
    .split(/\s+/)
    .filter((w) => w.length > 0);
  return unique(words.map((_, i) => words.slice(i).join(' ')));
}

/** The raw term of an identifier: the value itself, in NFC. */
export function identifierTerms(identifier: string): string[] {
  return [identifier.normalize('NFC')];
}

/** The raw terms of an email address: the address, and the domain after its last "@". */
export function emailTerms(mail: string): string[] {
  const nfc = mail.normalize('NFC');
  const at = nfc.lastIndexOf('@');
  return unique(at >= 0 && at < nfc.length - 1 ? [nfc, nfc.slice(at + 1)] : [nfc]);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** One row of terms to write: whose, from which part row, and the raw terms. */
export interface SearchTermsOf {
  coId: string;
  personId: string;
  partId: string;
  terms: string[];
}

/** Rows per INSERT: 4 bound values each, well under SQLite's and PostgreSQL's limits on bound values. */
const ROWS_PER_INSERT = 2000;

/**
 * Writes the search terms of name, identifier or email rows, lowercased by the database's lower()
 * (the same function the search applies to its text), in multi-row INSERTs. Call it in the
 * transaction that inserts the rows.
 */
export async function insertSearchTerms(db: Executor, parts: readonly SearchTermsOf[]): Promise<void> {
  const rows = parts.flatMap((p) => p.terms.map((term) => ({ co_id: p.coId, person_id: p.personId, part_id: p.partId, term: sql<string>`lower(${term})` })));
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await db.insertInto('person_search_term').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
  }
}

/** Part rows per statement when terms are rewritten by id. */
const PARTS_PER_STATEMENT = 500;

/**
 * Makes the search terms of the name, identifier or email rows `ids` of `table` match those rows
 * as they are now: their old terms are deleted, and the rows get their terms again. For writers
 * that insert or update part rows directly (bulk imports) rather than through
 * person.repository.ts; call it in the same transaction, after the writes. (Deleting a part row
 * needs nothing: a trigger deletes its terms, migration 20261228010000.)
 */
export async function syncSearchTermsOfParts(db: Executor, table: (typeof SEARCH_TERM_SOURCES)[number], ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += PARTS_PER_STATEMENT) {
    const part = ids.slice(i, i + PARTS_PER_STATEMENT);
    await db.deleteFrom('person_search_term').where('part_id', 'in', part).execute();
    await insertSearchTerms(db, await termsOfParts(db, table, part));
  }
}

async function termsOfParts(db: Executor, table: (typeof SEARCH_TERM_SOURCES)[number], ids: string[]): Promise<SearchTermsOf[]> {
  if (table === 'name') {
    const rows = await db.selectFrom('name').select(['id', 'co_id', 'person_id', 'given', 'middle', 'family']).where('id', 'in', ids).execute();
    return rows.map((r) => ({ coId: r.co_id, personId: r.person_id, partId: r.id, terms: nameTerms(r) }));
  }
  if (table === 'identifier') {
    const rows = await db.selectFrom('identifier').select(['id', 'co_id', 'person_id', 'identifier']).where('id', 'in', ids).execute();
    return rows.map((r) => ({ coId: r.co_id, personId: r.person_id, partId: r.id, terms: identifierTerms(r.identifier) }));
  }
  const rows = await db.selectFrom('email_address').select(['id', 'co_id', 'person_id', 'mail']).where('id', 'in', ids).execute();
  return rows.map((r) => ({ coId: r.co_id, personId: r.person_id, partId: r.id, terms: emailTerms(r.mail) }));
}

/** The highest code point: a term starting with `p` sorts (bytewise) between `p` and `p` followed by it. */
const TOP = '\u{10FFFF}';

/**
 * The condition "some term starts with `q`" on a term column `column` (e.g. `t.term`), as an
 * index range: lower(q) <= term < lower(q) || U+10FFFF. The term column compares bytewise (BINARY
 * on SQLite, COLLATE "C" on PostgreSQL), where UTF-8 order is code-point order.
 */
export function termPrefixRange(column: string, q: string) {
  const text = q.normalize('NFC');
  return sql<boolean>`(${sql.ref(column)} >= lower(${text}) and ${sql.ref(column)} < lower(${text}) || ${TOP})`;
}
