import { sql } from 'kysely';
import type { Executor } from '../../../db/database.ts';
import { identifierKey } from '../../text.ts';
import type { UserFilter } from './scim-filter.ts';
import type { Paging } from './scim-resource.ts';

/** A SCIM source's person as listed: the co_person columns a User resource needs. */
export interface ScimPersonRow {
  id: string;
  externalId: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * The source's people matching a supported filter, as SQL: equality on co_person columns, and
 * EXISTS over the person's identifiers (by `match_key`, so userName is case-insensitive and uses
 * identifier_co_type_key_uq) and email addresses. Only people the source owns are ever seen.
 * `oidcType` is the identifier type eduPersonUniqueId is stored as.
 */
function matching(db: Executor, coId: string, sourceId: string, filter: UserFilter, oidcType: string) {
  let q = db.selectFrom('co_person as p').where('p.co_id', '=', coId).where('p.source_id', '=', sourceId);
  if (filter.none) q = q.where('p.id', '=', '');
  if (filter.id !== undefined) q = q.where('p.id', '=', filter.id);
  if (filter.externalId !== undefined) q = q.where('p.external_id', '=', filter.externalId);
  const identifier = (type: string, value: string) =>
    q.where(({ exists, selectFrom }) =>
      exists(selectFrom('identifier as i').select('i.id').where('i.co_id', '=', coId).where('i.type', '=', type).where('i.match_key', '=', identifierKey(type, value)).whereRef('i.person_id', '=', 'p.id')),
    );
  if (filter.userName !== undefined) q = identifier('uid', filter.userName);
  if (filter.eduPersonUniqueId !== undefined) q = identifier(oidcType, filter.eduPersonUniqueId);
  const email = filter.email;
  if (email?.value !== undefined) {
    const mail = email.value.toLowerCase();
    q = q.where(({ exists, selectFrom }) => {
      let e = selectFrom('email_address as e').select('e.id').where('e.co_id', '=', coId).whereRef('e.person_id', '=', 'p.id').where(sql<string>`lower(${sql.ref('e.mail')})`, '=', mail);
      if (email.type !== undefined) e = e.where(sql<string>`lower(${sql.ref('e.type')})`, '=', email.type.toLowerCase());
      return exists(e);
    });
  }
  return q;
}

/**
 * One page of the source's people matching the filter, in a stable order (creation time, then id),
 * and the total over the whole filter: two queries, whatever the CO's size.
 */
export async function findScimPeople(db: Executor, coId: string, sourceId: string, filter: UserFilter, oidcType: string, paging: Paging): Promise<{ total: number; rows: ScimPersonRow[] }> {
  const total = Number((await matching(db, coId, sourceId, filter, oidcType).select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  if (paging.count === 0 || total < paging.startIndex) return { total, rows: [] };
  const rows = await matching(db, coId, sourceId, filter, oidcType)
    .select(['p.id', 'p.external_id', 'p.status', 'p.created_at', 'p.updated_at'])
    .orderBy('p.created_at')
    .orderBy('p.id')
    .limit(paging.count)
    .offset(paging.startIndex - 1)
    .execute();
  return { total, rows: rows.map((r) => ({ id: r.id, externalId: r.external_id ?? '', status: r.status, createdAt: r.created_at, updatedAt: r.updated_at })) };
}

/** The source's person with this SCIM id (co_person.id), or undefined (another source's included). */
export async function findScimPerson(db: Executor, coId: string, sourceId: string, id: string): Promise<ScimPersonRow | undefined> {
  return (await findScimPeople(db, coId, sourceId, { id }, 'oidcsub', { startIndex: 1, count: 1 })).rows[0];
}

/** Whom of the CO the `uid` identifier `userName` names (case-insensitively), if anyone. */
export async function personHoldingUserName(db: Executor, coId: string, userName: string): Promise<string | undefined> {
  const row = await db.selectFrom('identifier').select('person_id').where('co_id', '=', coId).where('type', '=', 'uid').where('match_key', '=', identifierKey('uid', userName)).executeTakeFirst();
  return row?.person_id;
}

/** The SCIM ids (co_person.id) of `ids` that are the source's people, with their external ids. */
export async function sourcePeopleByIds(db: Executor, coId: string, sourceId: string, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('co_person').select(['id', 'external_id']).where('co_id', '=', coId).where('source_id', '=', sourceId).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, r.external_id ?? '');
  }
  return out;
}
