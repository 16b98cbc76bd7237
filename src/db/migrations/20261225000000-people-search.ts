import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { emailTerms, identifierTerms, nameTerms } from '../../core/people/person-search-terms.ts';

/**
 * People search and paging at a million people per CO:
 * - `person_search_term`: the terms a person is found by (see core/people/person-search-terms.ts),
 *   lowercased by lower(), with the index (co_id, term) that serves a prefix search as a range
 *   (the term compares bytewise: COLLATE "C" on PostgreSQL, BINARY on SQLite), and (person_id),
 *   by which terms go with their person and a search scanning people newest first probes them.
 *   Filled here from the names, identifiers and email addresses already stored.
 * - `co_person_co_created_idx` (co_id, created_at DESC, id): a page of a CO's people, newest first,
 *   read from the index without sorting the CO.
 * - `identifier_co_person_idx` (co_id, person_id): the identifiers of a page of people; without it
 *   a planner with no statistics takes `identifier_co_type_key_uq` for the co_id and reads the CO's
 *   every identifier.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('person_search_term')
    .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('co_person.id').onDelete('cascade'))
    .addColumn('part_id', 'text', (c) => c.notNull())
    .addColumn('term', postgres ? sql`text collate "C"` : 'text', (c) => c.notNull())
    .execute();

  type Term = { co_id: string; person_id: string; part_id: string; term: string };
  const terms: Term[] = [];
  const names = await sql<{ id: string; co_id: string; person_id: string; given: string; middle: string | null; family: string | null }>`select id, co_id, person_id, given, middle, family from name`.execute(db);
  for (const n of names.rows) for (const term of nameTerms(n)) terms.push({ co_id: n.co_id, person_id: n.person_id, part_id: n.id, term });
  const identifiers = await sql<{ id: string; co_id: string; person_id: string; identifier: string }>`select id, co_id, person_id, identifier from identifier`.execute(db);
  for (const i of identifiers.rows) for (const term of identifierTerms(i.identifier)) terms.push({ co_id: i.co_id, person_id: i.person_id, part_id: i.id, term });
  const emails = await sql<{ id: string; co_id: string; person_id: string; mail: string }>`select id, co_id, person_id, mail from email_address`.execute(db);
  for (const e of emails.rows) for (const term of emailTerms(e.mail)) terms.push({ co_id: e.co_id, person_id: e.person_id, part_id: e.id, term });
  for (let i = 0; i < terms.length; i += 2000) {
    const rows = terms.slice(i, i + 2000).map((v) => sql`(${v.co_id}, ${v.person_id}, ${v.part_id}, lower(${v.term}))`);
    await sql`insert into person_search_term (co_id, person_id, part_id, term) values ${sql.join(rows)}`.execute(db);
  }

  await db.schema.createIndex('person_search_term_co_term_idx').on('person_search_term').columns(['co_id', 'term', 'person_id']).execute();
  await db.schema.createIndex('person_search_term_person_idx').on('person_search_term').columns(['person_id', 'part_id']).execute();
  await db.schema.createIndex('co_person_co_created_idx').on('co_person').columns(['co_id', 'created_at desc', 'id']).execute();
  await db.schema.createIndex('identifier_co_person_idx').on('identifier').columns(['co_id', 'person_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('identifier_co_person_idx').execute();
  await db.schema.dropIndex('co_person_co_created_idx').execute();
  await db.schema.dropTable('person_search_term').execute();
}
