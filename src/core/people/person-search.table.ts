/**
 * One search term of a person: a word-start of a name, an identifier, an email address or its
 * domain, lowercased by the database's own lower() (as the search text is), so the People search
 * is an indexed prefix range on (co_id, term). Written beside the name, identifier or email row it
 * comes from (`part_id`), and deleted with it.
 */
export interface PersonSearchTermTable {
  co_id: string;
  person_id: string;
  /** The id of the name, identifier or email_address row the term comes from. */
  part_id: string;
  term: string;
}
