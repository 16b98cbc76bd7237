import { sql, type Kysely } from 'kysely';
import { identifierKey } from '../../core/text.ts';

/**
 * Identifiers get `match_key`, their identity as the directory sees it (`identifierKey`: NFKC and
 * case-folded for the types whose LDAP matching rule ignores case, NFC otherwise), unique per CO
 * and type, so `AdaQ` can no longer join `adaq`, nor NFD `zoë` its NFC twin. Names, identifiers
 * and email addresses stored before are put in NFC.
 *
 * Twins already in the database (two people of one CO whose identifiers differ only in case or
 * normal form; their directory entries were one entry) stop the migration with a list of them: an
 * administrator must decide whose identifier it is, and nothing is merged or dropped behind their back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('identifier').addColumn('match_key', 'text', (c) => c.notNull().defaultTo('')).execute();

  const identifiers = await sql<{ id: string; co_id: string; type: string; identifier: string }>`select id, co_id, type, identifier from identifier`.execute(db);
  const owners = new Map<string, string[]>();
  for (const row of identifiers.rows) {
    const nfc = row.identifier.normalize('NFC');
    const key = identifierKey(row.type, nfc);
    await sql`update identifier set match_key = ${key}, identifier = ${nfc} where id = ${row.id}`.execute(db);
    const slot = `${row.co_id} ${row.type} ${key}`;
    owners.set(slot, [...(owners.get(slot) ?? []), `"${row.identifier}"`]);
  }
  const twins = [...owners.entries()].filter(([, values]) => values.length > 1);
  if (twins.length > 0) {
    const list = twins.map(([slot, values]) => `CO ${slot.split(' ')[0]}, type ${slot.split(' ')[1]}: ${values.join(', ')}`).join('; ');
    throw new Error(`identifiers that the directory takes for one another exist; remove or change all but one of each, then migrate again: ${list}`);
  }
  await db.schema.createIndex('identifier_co_type_key_uq').on('identifier').columns(['co_id', 'type', 'match_key']).unique().execute();
  await db.schema.createIndex('identifier_key_login_idx').on('identifier').columns(['match_key', 'login']).execute();

  const names = await sql<{ id: string; given: string; middle: string | null; family: string | null; suffix: string | null }>`select id, given, middle, family, suffix from name`.execute(db);
  for (const n of names.rows) {
    const nfc = (v: string | null) => (v === null ? null : v.normalize('NFC'));
    if ([n.given, n.middle, n.family, n.suffix].some((v) => v !== nfc(v))) {
      await sql`update name set given = ${nfc(n.given)}, middle = ${nfc(n.middle)}, family = ${nfc(n.family)}, suffix = ${nfc(n.suffix)} where id = ${n.id}`.execute(db);
    }
  }
  const emails = await sql<{ id: string; mail: string }>`select id, mail from email_address`.execute(db);
  for (const e of emails.rows) {
    if (e.mail !== e.mail.normalize('NFC')) await sql`update email_address set mail = ${e.mail.normalize('NFC')} where id = ${e.id}`.execute(db);
  }
}

/** Drops the key and its indexes; values stay in NFC (the same text to a reader). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('identifier_key_login_idx').execute();
  await db.schema.dropIndex('identifier_co_type_key_uq').execute();
  await db.schema.alterTable('identifier').dropColumn('match_key').execute();
}
