import { sql, type Kysely } from 'kysely';
import { identifierKey } from '../../core/text.ts';

/**
 * Sign-in namespaces. Sessions now hold the name they signed in with as an identifier type and key,
 * and the people it was then (`identifier_type`, `match_key`, `person_ids`); the sessions of before
 * held a bare username, so they end here and everyone signs in once more (nobody is locked out:
 * accounts and identifiers are untouched).
 *
 * Local accounts get `match_key`, their username's key as a uid (`identifierKey('uid', …)`),
 * unique, so `ada` and `ADA` can no longer be two accounts. Twins already stored stop the
 * migration with a list of them: an administrator decides which to keep (`tessera account`), as
 * the identifier-key migration does for identifiers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Twins are looked for before anything changes: SQLite's DDL is not rolled back with a failed
  // migration (Kysely runs it outside a transaction there), so a refusal must leave the schema as it was.
  const accounts = await sql<{ id: string; username: string }>`select id, username from local_account`.execute(db);
  const owners = new Map<string, Array<{ id: string; username: string }>>();
  for (const row of accounts.rows) {
    const key = identifierKey('uid', row.username);
    owners.set(key, [...(owners.get(key) ?? []), row]);
  }
  const twins = [...owners.values()].filter((rows) => rows.length > 1);
  if (twins.length > 0) {
    const list = twins.map((rows) => rows.map((r) => `"${r.username}"`).join(', ')).join('; ');
    throw new Error(`local accounts whose usernames are one uid exist; remove all but one of each, then migrate again: ${list}`);
  }

  await sql`delete from web_session`.execute(db);
  await db.schema.alterTable('web_session').addColumn('identifier_type', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('web_session').addColumn('match_key', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('web_session').addColumn('person_ids', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.createIndex('web_session_name_idx').on('web_session').columns(['identifier_type', 'match_key']).execute();

  await db.schema.alterTable('local_account').addColumn('match_key', 'text', (c) => c.notNull().defaultTo('')).execute();
  for (const [key, rows] of owners) await sql`update local_account set match_key = ${key} where id = ${rows[0]!.id}`.execute(db);
  await db.schema.createIndex('local_account_key_uq').on('local_account').column('match_key').unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('local_account_key_uq').execute();
  await db.schema.alterTable('local_account').dropColumn('match_key').execute();
  await db.schema.dropIndex('web_session_name_idx').execute();
  for (const column of ['person_ids', 'match_key', 'identifier_type']) await db.schema.alterTable('web_session').dropColumn(column).execute();
}
