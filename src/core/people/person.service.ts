import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { BUILT_IN_IDENTIFIER_TYPES, type PersonCreateInput } from './person.schema.ts';
import { findPerson, formatName, identifierTypesOf, searchPeople, type Person } from './person.repository.ts';
import type { PersonStatus } from './person.table.ts';
import type { z } from 'zod';
import type { emailInput, identifierInput, nameInput } from './person.schema.ts';

export type { Person } from './person.repository.ts';

/** Active and grace-period people are members: they hold group memberships and token access. */
export function isMemberStatus(status: PersonStatus): boolean {
  return status === 'active' || status === 'grace_period';
}

/** Expired, suspended and locked people keep their directory entry; others are deprovisioned. */
export function keepsEntry(status: PersonStatus): boolean {
  return isMemberStatus(status) || status === 'expired' || status === 'suspended' || status === 'locked';
}

function assertAdmin(actor: Actor, coId: string): void {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
}

/** A person can read themselves; CO admins and API users of the CO read everyone in it. */
export async function getPerson(ctx: CoreContext, actor: Actor, coId: string, personId: string, db: Executor = ctx.db): Promise<Person> {
  const self = personIdOf(actor, coId) === personId;
  const reader = actor.kind === 'api' ? actor.platform || actor.coId === coId : isCoAdmin(actor, coId);
  if (!self && !reader) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  const person = await findPerson(db, coId, personId);
  if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  return person;
}

export async function listPeople(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  query: { q?: string | undefined; page: number; pageSize: number },
): Promise<{ people: Person[]; total: number; page: number; pageSize: number }> {
  const reader = actor.kind === 'api' ? actor.platform || actor.coId === coId : isCoAdmin(actor, coId);
  assertThat(reader, CORE_ERRORS.FORBIDDEN);
  const { people, total } = await searchPeople(ctx.db, coId, {
    ...(query.q ? { q: query.q } : {}),
    limit: query.pageSize,
    offset: (query.page - 1) * query.pageSize,
  });
  return { people, total, page: query.page, pageSize: query.pageSize };
}

export async function allIdentifierTypes(db: Executor, coId: string): Promise<string[]> {
  return [...BUILT_IN_IDENTIFIER_TYPES, ...(await identifierTypesOf(db, coId))];
}

async function assertIdentifierType(db: Executor, coId: string, type: string): Promise<void> {
  if (!(await allIdentifierTypes(db, coId)).includes(type)) {
    throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_UNKNOWN, { field: 'type', message: `Identifier type "${type}" is not defined in this CO` });
  }
}

async function insertIdentifier(db: Executor, ctx: CoreContext, coId: string, personId: string, input: z.infer<typeof identifierInput>, field: string): Promise<string> {
  await assertIdentifierType(db, coId, input.type);
  const id = newId();
  try {
    await db
      .insertInto('identifier')
      .values({ id, co_id: coId, person_id: personId, identifier: input.identifier, type: input.type, login: input.login ? 1 : 0, status: 'active', created_at: ctx.clock.now().toISOString() })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.IDENTIFIER_TAKEN, { field });
    throw e;
  }
  return id;
}

export async function createPerson(ctx: CoreContext, actor: Actor, coId: string, input: PersonCreateInput): Promise<Person> {
  assertAdmin(actor, coId);
  return ctx.db.transaction().execute(async (trx) => {
    await getCo(trx, coId);
    const now = ctx.clock.now().toISOString();
    const personId = newId();
    await trx.insertInto('co_person').values({ id: personId, co_id: coId, status: input.status, created_at: now, updated_at: now }).execute();
    await trx
      .insertInto('name')
      .values({ id: newId(), co_id: coId, person_id: personId, given: input.name.given, middle: input.name.middle ?? null, family: input.name.family ?? null, suffix: input.name.suffix ?? null, type: 'official', primary_name: 1 })
      .execute();
    for (const [i, ident] of input.identifiers.entries()) {
      await insertIdentifier(trx, ctx, coId, personId, ident, `identifiers.${i}.identifier`);
    }
    for (const email of input.emails) {
      await trx.insertInto('email_address').values({ id: newId(), co_id: coId, person_id: personId, mail: email.mail, type: email.type, verified: email.verified ? 1 : 0 }).execute();
    }
    await recordHistory(trx, ctx.clock, actor, { coId, personId, action: 'PERSON_CREATED', comment: `CO Person ${formatName({ given: input.name.given, middle: input.name.middle ?? null, family: input.name.family ?? null, suffix: input.name.suffix ?? null })} created with status ${input.status}` });
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'created' });
    return (await findPerson(trx, coId, personId))!;
  });
}

/** Runs a change to one person inside a transaction, after checking the actor and the person. */
async function changePerson<T>(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  personId: string,
  change: (trx: Executor, person: Person) => Promise<{ action: string; comment: string; result: T }>,
): Promise<T> {
  assertAdmin(actor, coId);
  return ctx.db.transaction().execute(async (trx) => {
    const person = await findPerson(trx, coId, personId);
    if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
    const { action, comment, result } = await change(trx, person);
    await trx.updateTable('co_person').set({ updated_at: ctx.clock.now().toISOString() }).where('id', '=', personId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, personId, action, comment });
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: action });
    return result;
  });
}

export function setPersonStatus(ctx: CoreContext, actor: Actor, coId: string, personId: string, status: PersonStatus): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    await trx.updateTable('co_person').set({ status }).where('id', '=', personId).where('co_id', '=', coId).execute();
    return { action: 'PERSON_STATUS_CHANGED', comment: `Status changed from ${person.status} to ${status}`, result: undefined };
  });
}

export function addIdentifier(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: z.infer<typeof identifierInput>): Promise<string> {
  return changePerson(ctx, actor, coId, personId, async (trx) => {
    const id = await insertIdentifier(trx, ctx, coId, personId, input, 'identifier');
    return { action: 'IDENTIFIER_ADDED', comment: `Identifier ${input.identifier} (${input.type}${input.login ? ', login' : ''}) added`, result: id };
  });
}

export function removeIdentifier(ctx: CoreContext, actor: Actor, coId: string, personId: string, identifierId: string): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const ident = person.identifiers.find((i) => i.id === identifierId);
    if (!ident) throw new AppError(CORE_ERRORS.IDENTIFIER_NOT_FOUND);
    await trx.deleteFrom('identifier').where('id', '=', identifierId).where('co_id', '=', coId).execute();
    return { action: 'IDENTIFIER_REMOVED', comment: `Identifier ${ident.identifier} (${ident.type}) removed`, result: undefined };
  });
}

export function addName(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: z.infer<typeof nameInput>): Promise<string> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const id = newId();
    const primary = input.primary || person.names.length === 0;
    if (primary) await trx.updateTable('name').set({ primary_name: 0 }).where('person_id', '=', personId).where('co_id', '=', coId).execute();
    await trx
      .insertInto('name')
      .values({ id, co_id: coId, person_id: personId, given: input.given, middle: input.middle ?? null, family: input.family ?? null, suffix: input.suffix ?? null, type: input.type, primary_name: primary ? 1 : 0 })
      .execute();
    return { action: 'NAME_ADDED', comment: `Name ${formatName({ given: input.given, middle: input.middle ?? null, family: input.family ?? null, suffix: input.suffix ?? null })} (${input.type}) added`, result: id };
  });
}

export function removeName(ctx: CoreContext, actor: Actor, coId: string, personId: string, nameId: string): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const name = person.names.find((n) => n.id === nameId);
    if (!name) throw new AppError(CORE_ERRORS.NAME_NOT_FOUND);
    if (name.primary) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: 'The primary name cannot be removed; make another name primary first', field: 'name' });
    await trx.deleteFrom('name').where('id', '=', nameId).where('co_id', '=', coId).execute();
    return { action: 'NAME_REMOVED', comment: `Name ${formatName(name)} removed`, result: undefined };
  });
}

export function addEmail(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: z.infer<typeof emailInput>): Promise<string> {
  return changePerson(ctx, actor, coId, personId, async (trx) => {
    const id = newId();
    await trx.insertInto('email_address').values({ id, co_id: coId, person_id: personId, mail: input.mail, type: input.type, verified: input.verified ? 1 : 0 }).execute();
    return { action: 'EMAIL_ADDED', comment: `Email address ${input.mail} (${input.type}) added`, result: id };
  });
}

export function removeEmail(ctx: CoreContext, actor: Actor, coId: string, personId: string, emailId: string): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const email = person.emails.find((e) => e.id === emailId);
    if (!email) throw new AppError(CORE_ERRORS.EMAIL_NOT_FOUND);
    await trx.deleteFrom('email_address').where('id', '=', emailId).where('co_id', '=', coId).execute();
    return { action: 'EMAIL_REMOVED', comment: `Email address ${email.mail} removed`, result: undefined };
  });
}

/** Removes the person and what hangs off them; history stays, with the person detached. */
export async function deletePerson(ctx: CoreContext, actor: Actor, coId: string, personId: string): Promise<void> {
  assertAdmin(actor, coId);
  await ctx.db.transaction().execute(async (trx) => {
    const person = await findPerson(trx, coId, personId);
    if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
    // Listeners see the person before the rows go, so they can schedule removal from directories.
    await publishChange(ctx, trx, { kind: 'person-deleted', coId, personId, reason: 'deleted' });
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'PERSON_DELETED', comment: `CO Person ${person.displayName} (${personId}) deleted` });
    await trx.deleteFrom('co_person').where('id', '=', personId).where('co_id', '=', coId).execute();
  });
}

export async function addIdentifierType(ctx: CoreContext, actor: Actor, coId: string, name: string): Promise<void> {
  assertAdmin(actor, coId);
  await ctx.db.transaction().execute(async (trx) => {
    if ((await allIdentifierTypes(trx, coId)).includes(name)) throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_TAKEN, { field: 'name' });
    try {
      await trx.insertInto('co_identifier_type').values({ id: newId(), co_id: coId, name }).execute();
    } catch (e) {
      // Two requests adding the same type at once: the second meets the unique constraint.
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_TAKEN, { field: 'name' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'IDENTIFIER_TYPE_ADDED', comment: `Identifier type ${name} added` });
  });
}
