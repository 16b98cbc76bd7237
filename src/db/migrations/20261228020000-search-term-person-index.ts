import type { Kysely } from 'kysely';

/**
 * A search for a common name prefix walks the CO's people newest first and asks, a thousand people
 * at a time, which of them have a term in the range (person-search.repository.ts). With only
 * (person_id, part_id), PostgreSQL answered that from the (co_id, term) index instead, reading
 * every term of the prefix in the CO (about 40,000 for a three-letter given name at a million
 * people) once per thousand people walked. `person_search_term_person_term_idx` (person_id, co_id,
 * term, part_id) answers it from the index alone, a few entries per person, and still serves the
 * lookups by (person_id, part_id) of the trigger that deletes a row's terms. It replaces
 * `person_search_term_person_idx` (person_id, part_id).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('person_search_term_person_term_idx').on('person_search_term').columns(['person_id', 'co_id', 'term', 'part_id']).execute();
  await db.schema.dropIndex('person_search_term_person_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('person_search_term_person_idx').on('person_search_term').columns(['person_id', 'part_id']).execute();
  await db.schema.dropIndex('person_search_term_person_term_idx').execute();
}
