import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { inTransaction } from '../../db/transaction.ts';
import type { Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { AppError } from '../errors/app-error.ts';
import { recordHistory } from '../history/history.service.ts';
import { clearPrimaryName, formatName, insertEmail, insertIdentifier, insertIdentifierType, insertName, insertPerson, lockPerson } from '../people/person.repository.ts';
import { allIdentifierTypes } from '../people/person.service.ts';
import type { PersonStatus } from '../people/person.table.ts';
import type { Source } from './source.repository.ts';
import { SOURCE_ERRORS } from './source-errors.ts';
import { dropSourceMembershipsShadowedByLocal } from './source-ownership.ts';
import type { SourcePersonRecord } from './source-records.ts';
import { emailKey, fingerprint, identifierKeyOf, loadSourcePeople, nameKey, personValueOf, type PersonValue } from './source-state.ts';

/*
 * The source writer, people half. Every source kind writes through these functions; each is one
 * transaction of its own (`inTransaction`, the CO locked shared, then the person), writes history
 * with the source as the actor, and publishes a change, so provisioning jobs are written by the
 * outbox in the same transaction. Only rows the source owns (source_id = the source) are changed:
 * names, identifiers and emails made in Tessera, memberships of local groups and tokens stay as
 * they are. A person is never deleted by a source: removed or ineligible, they are suspended,
 * which cuts off their tokens at once; back at the source, they are active again and their tokens
 * that were neither revoked nor expired meanwhile work again.
 */

/** The actor a source acts as: history shows "source <name>". */
export function sourceActor(source: Pick<Source, 'name'>): Actor {
  return { kind: 'system', label: `source ${source.name}` };
}

/** What a writer operation did to one object. */
export type WriteOutcome = 'added' | 'changed' | 'unchanged';

/** A source must be active to write (finalised and terminated sources own nothing any more). */
export function assertActiveSource(source: Source): void {
  if (source.status !== 'active') throw new AppError(SOURCE_ERRORS.SOURCE_NOT_ACTIVE, { message: `Source ${source.name} is ${source.status}` });
}

function diffParts<T>(stored: T[], wanted: T[], key: (t: T) => string): { remove: T[]; add: T[]; change: T[] } {
  const storedKeys = new Map(stored.map((s) => [key(s), s]));
  const wantedKeys = new Map(wanted.map((w) => [key(w), w]));
  return {
    remove: stored.filter((s) => !wantedKeys.has(key(s))),
    add: wanted.filter((w) => !storedKeys.has(key(w))),
    change: wanted.filter((w) => storedKeys.has(key(w)) && JSON.stringify(storedKeys.get(key(w))) !== JSON.stringify(w)),
  };
}

/** Writes the difference between a person's stored source-owned state and the wanted one; returns what changed, for history. */
async function writePersonParts(trx: Executor, ctx: CoreContext, source: Source, personId: string, stored: PersonValue, wanted: PersonValue): Promise<string[]> {
  const coId = source.coId;
  const owned = { source_id: source.id, external_id: null };
  const notes: string[] = [];
  const base = () => trx.deleteFrom('name').where('co_id', '=', coId).where('person_id', '=', personId).where('source_id', '=', source.id);

  const names = diffParts(stored.names, wanted.names, nameKey);
  if (names.remove.length + names.add.length + names.change.length > 0) {
    // Names are few: replace the source's names whole, so "one primary" holds without a partial state.
    await base().execute();
    if (wanted.names.some((n) => n.primary)) await clearPrimaryName(trx, coId, personId);
    for (const n of wanted.names) {
      await insertName(trx, { id: newId(), co_id: coId, person_id: personId, given: n.given, middle: n.middle, family: n.family, suffix: n.suffix, type: n.type, primary_name: n.primary ? 1 : 0, ...owned });
    }
    notes.push(`names ${wanted.names.map(formatName).join(', ') || '(none)'}`);
  }

  const ids = diffParts(stored.identifiers, wanted.identifiers, identifierKeyOf);
  for (const i of [...ids.remove, ...ids.change]) {
    await trx.deleteFrom('identifier').where('co_id', '=', coId).where('person_id', '=', personId).where('source_id', '=', source.id).where('type', '=', i.type).where('identifier', '=', i.identifier).execute();
  }
  const types = new Set(await allIdentifierTypes(trx, coId));
  for (const i of [...ids.change, ...ids.add]) {
    if (!types.has(i.type)) {
      await insertIdentifierType(trx, { id: newId(), co_id: coId, name: i.type });
      types.add(i.type);
      notes.push(`identifier type ${i.type} added to the CO`);
    }
    await insertIdentifier(trx, { id: newId(), co_id: coId, person_id: personId, identifier: i.identifier, type: i.type, login: i.login ? 1 : 0, status: 'active', created_at: ctx.clock.now().toISOString(), ...owned });
  }
  if (ids.remove.length) notes.push(`identifiers removed: ${ids.remove.map((i) => `${i.identifier} (${i.type})`).join(', ')}`);
  if (ids.add.length) notes.push(`identifiers added: ${ids.add.map((i) => `${i.identifier} (${i.type})`).join(', ')}`);
  if (ids.change.length) notes.push(`identifiers changed: ${ids.change.map((i) => `${i.identifier} (${i.type}${i.login ? ', login' : ''})`).join(', ')}`);

  const emails = diffParts(stored.emails, wanted.emails, emailKey);
  for (const e of [...emails.remove, ...emails.change]) {
    await trx.deleteFrom('email_address').where('co_id', '=', coId).where('person_id', '=', personId).where('source_id', '=', source.id).where('type', '=', e.type).where('mail', '=', e.mail).execute();
  }
  for (const e of [...emails.change, ...emails.add]) {
    await insertEmail(trx, { id: newId(), co_id: coId, person_id: personId, mail: e.mail, type: e.type, verified: e.verified ? 1 : 0, ...owned });
  }
  if (emails.remove.length + emails.add.length + emails.change.length > 0) notes.push(`email addresses ${wanted.emails.map((e) => e.mail).join(', ') || '(none)'}`);
  return notes;
}

/**
 * Creates or updates the person the source knows as `record.externalId`: their status and the
 * names, identifiers and emails the source owns become those of the record (see
 * SourcePersonRecord). Unknown identifier types are added to the CO. Returns the person's id and
 * whether anything changed (nothing is written, not even history, when nothing did).
 * Errors: SOURCE_NOT_ACTIVE; IDENTIFIER_TAKEN (409) when another person of the CO holds one of the
 * identifiers — the whole person is then left as it was.
 */
export async function upsertSourcePerson(ctx: CoreContext, source: Source, record: SourcePersonRecord): Promise<{ personId: string; outcome: WriteOutcome }> {
  assertActiveSource(source);
  const wanted = personValueOf(record);
  const actor = sourceActor(source);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, source.coId, 'shared');
    const now = ctx.clock.now().toISOString();
    let stored = await findStored(trx, source, record.externalId);
    let outcome: WriteOutcome = 'changed';
    if (!stored) {
      const personId = newId();
      await insertPerson(trx, { id: personId, co_id: source.coId, status: wanted.status, created_at: now, updated_at: now, source_id: source.id, external_id: record.externalId });
      stored = { personId, externalId: record.externalId, value: { status: wanted.status, names: [], identifiers: [], emails: [] } };
      outcome = 'added';
    } else {
      await lockPerson(trx, source.coId, stored.personId, 'write');
      if (fingerprint(stored.value) === fingerprint(wanted)) return { personId: stored.personId, outcome: 'unchanged' as const };
    }
    const notes = await writePersonParts(trx, ctx, source, stored.personId, stored.value, wanted);
    if (outcome === 'changed' && stored.value.status !== wanted.status) notes.unshift(`status ${stored.value.status} → ${wanted.status}`);
    await trx.updateTable('co_person').set({ status: wanted.status, updated_at: now }).where('co_id', '=', source.coId).where('id', '=', stored.personId).execute();
    const label = wanted.names[0] ? formatName(wanted.names.find((n) => n.primary) ?? wanted.names[0]) : record.externalId;
    await recordHistory(trx, ctx.clock, actor, {
      coId: source.coId,
      personId: stored.personId,
      action: outcome === 'added' ? 'SOURCE_PERSON_ADDED' : 'SOURCE_PERSON_UPDATED',
      comment: outcome === 'added' ? `CO Person ${label} added by source ${source.name} (id ${record.externalId}) with status ${wanted.status}` : `Updated by source ${source.name}: ${notes.join('; ')}`,
    });
    await publishChange(ctx, trx, { kind: 'person', coId: source.coId, personId: stored.personId, reason: `source ${source.name}` });
    return { personId: stored.personId, outcome };
  });
}

async function findStored(db: Executor, source: Source, externalId: string) {
  const row = await db.selectFrom('co_person').select('id').where('co_id', '=', source.coId).where('source_id', '=', source.id).where('external_id', '=', externalId).executeTakeFirst();
  if (!row) return undefined;
  return (await loadSourcePeople(db, source.coId, source.id, [row.id])).get(externalId);
}

/** Sets a source person's status alone (one transaction, history, change event); 'unchanged' when it is so already. */
async function setSourcePersonStatus(ctx: CoreContext, source: Source, externalId: string, status: PersonStatus, why: string): Promise<WriteOutcome> {
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, source.coId, 'shared');
    const row = await trx.selectFrom('co_person').select(['id', 'status']).where('co_id', '=', source.coId).where('source_id', '=', source.id).where('external_id', '=', externalId).executeTakeFirst();
    if (!row || !(await lockPerson(trx, source.coId, row.id, 'write'))) return 'unchanged';
    if (row.status === status) return 'unchanged';
    await trx.updateTable('co_person').set({ status, updated_at: ctx.clock.now().toISOString() }).where('co_id', '=', source.coId).where('id', '=', row.id).execute();
    await recordHistory(trx, ctx.clock, sourceActor(source), { coId: source.coId, personId: row.id, action: 'SOURCE_PERSON_STATUS_CHANGED', comment: `Status changed from ${row.status} to ${status} by source ${source.name}: ${why}` });
    await publishChange(ctx, trx, { kind: 'person', coId: source.coId, personId: row.id, reason: `source ${source.name}` });
    return 'changed';
  });
}

/**
 * Suspends a person the source removed or no longer holds eligible: never deleted, so their
 * tokens stop at once (the cut-off of suspended people) and come back if the source brings the
 * person back (`upsertSourcePerson` with an active status). A person already suspended, or one
 * the source does not own, is left alone ('unchanged').
 */
export function suspendSourcePerson(ctx: CoreContext, source: Source, externalId: string, why = 'no longer at the source'): Promise<WriteOutcome> {
  assertActiveSource(source);
  return setSourcePersonStatus(ctx, source, externalId, 'suspended', why);
}

/**
 * Hands one person over to Tessera: the person and their rows from this source lose their
 * source_id and external_id, and are kept (local rows from then on). False when the source owns
 * no such person.
 */
export async function detachSourcePerson(ctx: CoreContext, source: Source, externalId: string): Promise<boolean> {
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, source.coId, 'shared');
    const row = await trx.selectFrom('co_person').select('id').where('co_id', '=', source.coId).where('source_id', '=', source.id).where('external_id', '=', externalId).executeTakeFirst();
    if (!row || !(await lockPerson(trx, source.coId, row.id, 'write'))) return false;
    const clear = { source_id: null, external_id: null };
    await dropSourceMembershipsShadowedByLocal(trx, source.coId, source.id, row.id);
    for (const table of ['name', 'identifier', 'email_address', 'co_group_member'] as const) {
      await trx.updateTable(table).set(clear).where('co_id', '=', source.coId).where('person_id', '=', row.id).where('source_id', '=', source.id).execute();
    }
    await trx.updateTable('co_person').set(clear).where('co_id', '=', source.coId).where('id', '=', row.id).execute();
    await recordHistory(trx, ctx.clock, sourceActor(source), { coId: source.coId, personId: row.id, action: 'SOURCE_PERSON_DETACHED', comment: `Detached from source ${source.name} (id ${externalId}); Tessera owns this person now` });
    return true;
  });
}
