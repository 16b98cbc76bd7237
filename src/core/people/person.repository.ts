import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import type { CoPersonTable, EmailAddressTable, IdentifierTable, NameTable, PersonStatus } from './person.table.ts';

export interface PersonName {
  id: string;
  given: string;
  middle: string | null;
  family: string | null;
  suffix: string | null;
  type: string;
  primary: boolean;
}
export interface PersonIdentifier {
  id: string;
  identifier: string;
  type: string;
  login: boolean;
  status: string;
}
export interface PersonEmail {
  id: string;
  mail: string;
  type: string;
  verified: boolean;
}

export interface Person {
  id: string;
  coId: string;
  status: PersonStatus;
  displayName: string;
  names: PersonName[];
  identifiers: PersonIdentifier[];
  emails: PersonEmail[];
  createdAt: string;
  updatedAt: string;
}

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
});
const toIdentifier = (r: IdentifierTable): PersonIdentifier => ({
  id: r.id,
  identifier: r.identifier,
  type: r.type,
  login: r.login === 1,
  status: r.status,
});
const toEmail = (r: EmailAddressTable): PersonEmail => ({ id: r.id, mail: r.mail, type: r.type, verified: r.verified === 1 });

/** Loads people with their names, identifiers and emails, in four queries whatever their number. */
export async function loadPeople(db: Executor, coId: string, rows: CoPersonTable[]): Promise<Person[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [names, identifiers, emails] = await Promise.all([
    db.selectFrom('name').selectAll().where('co_id', '=', coId).where('person_id', 'in', ids).orderBy('primary_name', 'desc').orderBy('id').execute(),
    db.selectFrom('identifier').selectAll().where('co_id', '=', coId).where('person_id', 'in', ids).orderBy('type').orderBy('identifier').execute(),
    db.selectFrom('email_address').selectAll().where('co_id', '=', coId).where('person_id', 'in', ids).orderBy('mail').execute(),
  ]);
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
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  });
}

export async function findPerson(db: Executor, coId: string, personId: string): Promise<Person | undefined> {
  if (!isId(personId)) return undefined;
  const row = await db.selectFrom('co_person').selectAll().where('co_id', '=', coId).where('id', '=', personId).executeTakeFirst();
  if (!row) return undefined;
  return (await loadPeople(db, coId, [row]))[0];
}

/**
 * Case-insensitive search over names, identifiers and email addresses, newest first. The pattern is
 * lowercased by the database's own lower(), like the columns, so both sides fold case the same way
 * (a pattern lowercased in JavaScript would never match "Émile" where lower() keeps the "É").
 */
export async function searchPeople(
  db: Executor,
  coId: string,
  opts: { q?: string; limit: number; offset: number },
): Promise<{ people: Person[]; total: number }> {
  let base = db.selectFrom('co_person as p').where('p.co_id', '=', coId);
  if (opts.q) {
    const escaped = `%${opts.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const like = sql<string>`lower(${escaped})`;
    const fullName = sql<string>`lower(n.given || ' ' || coalesce(n.middle || ' ', '') || coalesce(n.family, ''))`;
    base = base.where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('name as n').select('n.id').whereRef('n.person_id', '=', 'p.id').where(fullName, 'like', sql<string>`${like} escape '\\'`)),
        eb.exists(eb.selectFrom('identifier as i').select('i.id').whereRef('i.person_id', '=', 'p.id').where(sql`lower(i.identifier)`, 'like', sql<string>`${like} escape '\\'`)),
        eb.exists(eb.selectFrom('email_address as e').select('e.id').whereRef('e.person_id', '=', 'p.id').where(sql`lower(e.mail)`, 'like', sql<string>`${like} escape '\\'`)),
      ]),
    );
  }
  const countRow = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  const rows = await base.selectAll('p').orderBy('p.created_at', 'desc').orderBy('p.id').limit(opts.limit).offset(opts.offset).execute();
  return { people: await loadPeople(db, coId, rows), total: Number(countRow.n) };
}

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
