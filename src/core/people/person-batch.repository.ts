import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { identifierKey } from '../text.ts';
import { emailTerms, identifierTerms, insertSearchTerms, nameTerms, type SearchTermsOf } from './person-search-terms.ts';
import type { CoPersonTable, EmailAddressTable, IdentifierTable, NameTable } from './person.table.ts';

/** A new person's rows: the co_person row and what hangs off it (identifiers without their match_key, which is derived). */
export interface NewPersonRows {
  person: CoPersonTable;
  names: NameTable[];
  identifiers: Array<Omit<IdentifierTable, 'match_key'>>;
  emails: EmailAddressTable[];
}

/** Rows per INSERT: at most 10 columns each, so under SQLite's 32,766 and PostgreSQL's 65,535 bound values. */
const ROWS_PER_INSERT = 1000;

/**
 * Inserts many people at once, with the same rules as the one-at-a-time inserts of
 * person.repository.ts (identifiers in NFC with their `match_key`, search terms for every name,
 * identifier and email), in multi-row INSERTs: for loading people in bulk (an import, a benchmark).
 * Call it inside a transaction. An identifier the CO has already (or twice in the batch) meets
 * `identifier_co_type_key_uq` and is IDENTIFIER_TAKEN (409); the transaction should then be
 * rolled back, as nothing tells which row it was.
 */
export async function insertPeopleBatch(db: Executor, people: readonly NewPersonRows[]): Promise<void> {
  const identifiers = people.flatMap((p) => p.identifiers.map((i) => {
    const identifier = i.identifier.normalize('NFC');
    return { ...i, identifier, match_key: identifierKey(i.type, identifier) };
  }));
  const names = people.flatMap((p) => p.names);
  const emails = people.flatMap((p) => p.emails);
  await chunked(people.map((p) => p.person), (rows) => db.insertInto('co_person').values(rows).execute());
  await chunked(names, (rows) => db.insertInto('name').values(rows).execute());
  await chunked(identifiers, (rows) =>
    mapUniqueViolation(db.insertInto('identifier').values(rows).execute(), () => new AppError(CORE_ERRORS.IDENTIFIER_TAKEN, { field: 'identifier' })),
  );
  await chunked(emails, (rows) => db.insertInto('email_address').values(rows).execute());
  const terms: SearchTermsOf[] = [
    ...names.map((n) => ({ coId: n.co_id, personId: n.person_id, partId: n.id, terms: nameTerms(n) })),
    ...identifiers.map((i) => ({ coId: i.co_id, personId: i.person_id, partId: i.id, terms: identifierTerms(i.identifier) })),
    ...emails.map((e) => ({ coId: e.co_id, personId: e.person_id, partId: e.id, terms: emailTerms(e.mail) })),
  ];
  await insertSearchTerms(db, terms);
}

async function chunked<T>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await insert(rows.slice(i, i + ROWS_PER_INSERT));
}
