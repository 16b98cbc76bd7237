import { sql, type Kysely } from 'kysely';
import { takesRowLocks } from '../transaction.ts';

/** The tables whose rows give a person search terms (core/people/person-search-terms.ts). */
const PART_TABLES = ['name', 'identifier', 'email_address'] as const;

/**
 * A person's search terms go with the name, identifier or email row they came from, whoever
 * deletes it and however (one row by id, a source replacing the rows it owns, an import, SQL by
 * hand): an AFTER DELETE trigger on each of those tables deletes the row's terms, found by the
 * person's id (an index that starts with person_id), in the deleting transaction. Inserts and
 * updates still write their terms in code, because a name's terms (every word-start suffix) are
 * computed there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (takesRowLocks(db)) {
    await sql`create function person_search_term_drop_part() returns trigger language plpgsql as $$
      begin delete from person_search_term where person_id = old.person_id and part_id = old.id; return null; end $$`.execute(db);
    for (const table of PART_TABLES) {
      await sql`create trigger ${sql.id(`${table}_search_terms_drop`)} after delete on ${sql.table(table)}
        for each row execute function person_search_term_drop_part()`.execute(db);
    }
  } else {
    for (const table of PART_TABLES) {
      await sql`create trigger ${sql.id(`${table}_search_terms_drop`)} after delete on ${sql.table(table)}
        begin delete from person_search_term where person_id = old.person_id and part_id = old.id; end`.execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = takesRowLocks(db);
  for (const table of PART_TABLES) {
    if (postgres) await sql`drop trigger ${sql.id(`${table}_search_terms_drop`)} on ${sql.table(table)}`.execute(db);
    else await sql`drop trigger ${sql.id(`${table}_search_terms_drop`)}`.execute(db);
  }
  if (postgres) await sql`drop function person_search_term_drop_part()`.execute(db);
}
