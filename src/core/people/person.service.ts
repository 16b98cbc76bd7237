import type { z } from 'zod';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { BUILT_IN_IDENTIFIER_TYPES, type emailInput, type identifierInput, type nameInput, type PersonCreateInput } from './person.schema.ts';
import {
  clearPrimaryName,
  deletePersonPart,
  deletePersonRow,
  findPerson,
  formatName,
  identifierTypesOf,
  insertEmail,
  insertIdentifier,
  insertIdentifierType,
  insertName,
  insertPerson,
  lockPerson,
  updatePerson,
  type Person,
} from './person.repository.ts';
import type { PersonStatus } from './person.table.ts';
import { searchPeople } from './person-search.repository.ts';
import { inTransaction } from '../../db/transaction.ts';
import { assertNotSourceOwned } from '../sources/source-ownership.ts';

export type { Person } from './person.repository.ts';

/** Active and grace-period people are members: they hold group memberships and token access. */
export function isMemberStatus(status: PersonStatus): boolean {
  return status === 'active' || status === 'grace_period';
}

/** The statuses `isMemberStatus` accepts, for set-based queries. */
export const MEMBER_STATUSES: readonly PersonStatus[] = ['active', 'grace_period'];

/** Expired, suspended and locked people keep their directory entry; others are deprovisioned. */
export function keepsEntry(status: PersonStatus): boolean {
  return isMemberStatus(status) || status === 'expired' || status === 'suspended' || status === 'locked';
}

function assertAdmin(actor: Actor, coId: string): void {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
}

/** Readers of everyone in a CO: its admins, and API users of the CO or of the platform CO. */
function readsEveryone(actor: Actor, coId: string): boolean {
  return actor.kind === 'api' ? actor.platform || actor.coId === coId : isCoAdmin(actor, coId);
}

/**
 * A person can read themselves; CO admins and API users of the CO read everyone in it. Anyone
 * else, and an unknown id, get PERSON_NOT_FOUND (404), so ids of other COs reveal nothing.
 */
export async function getPerson(ctx: CoreContext, actor: Actor, coId: string, personId: string, db: Executor = ctx.db): Promise<Person> {
  const self = personIdOf(actor, coId) === personId;
  if (!self && !readsEveryone(actor, coId)) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  const person = await findPerson(db, coId, personId);
  if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  return person;
}

/**
 * One page (1-based) of the CO's people, newest first, optionally searched (see `searchPeople`:
 * prefix of a name from any word on, an identifier, an email address or its domain, case
 * insensitive); FORBIDDEN to non-readers. `countUpTo`: count no further and say "at least".
 */
export async function listPeople(
  ctx: CoreContext,
  actor: Actor,
  coId: string,
  query: { q?: string | undefined; page: number; pageSize: number; countUpTo?: number },
): Promise<{ people: Person[]; total: number; totalIsAtLeast: boolean; page: number; pageSize: number }> {
  assertThat(readsEveryone(actor, coId), CORE_ERRORS.FORBIDDEN);
  const { people, total, totalIsAtLeast } = await searchPeople(ctx.db, coId, {
    ...(query.q ? { q: query.q } : {}),
    limit: query.pageSize,
    offset: (query.page - 1) * query.pageSize,
    ...(query.countUpTo !== undefined ? { countUpTo: query.countUpTo } : {}),
  });
  return { people, total, totalIsAtLeast, page: query.page, pageSize: query.pageSize };
}

/** The built-in identifier types followed by the CO's own, by name. */
export async function allIdentifierTypes(db: Executor, coId: string): Promise<string[]> {
  return [...BUILT_IN_IDENTIFIER_TYPES, ...(await identifierTypesOf(db, coId))];
}

async function assertIdentifierType(db: Executor, coId: string, type: string): Promise<void> {
  if (!(await allIdentifierTypes(db, coId)).includes(type)) {
    throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_UNKNOWN, { field: 'type', message: `Identifier type "${type}" is not defined in this CO` });
  }
}

async function addIdentifierRow(db: Executor, ctx: CoreContext, coId: string, personId: string, input: z.infer<typeof identifierInput>, field: string): Promise<string> {
  await assertIdentifierType(db, coId, input.type);
  const id = newId();
  const row = { id, co_id: coId, person_id: personId, identifier: input.identifier, type: input.type, login: input.login ? 1 : 0, status: 'active' as const, created_at: ctx.clock.now().toISOString() };
  await insertIdentifier(db, row, field);
  return id;
}

const nameParts = (n: z.infer<typeof nameInput> | PersonCreateInput['name']) => ({ given: n.given, middle: n.middle ?? null, family: n.family ?? null, suffix: n.suffix ?? null });

/**
 * Creates a person with a primary official name, identifiers and emails (CO admins only), in one
 * transaction with its history and change event. Errors: CO_NOT_FOUND, IDENTIFIER_TYPE_UNKNOWN,
 * IDENTIFIER_TAKEN (field `identifiers.N.identifier`).
 */
export async function createPerson(ctx: CoreContext, actor: Actor, coId: string, input: PersonCreateInput): Promise<Person> {
  assertAdmin(actor, coId);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    await getCo(trx, coId);
    const now = ctx.clock.now().toISOString();
    const personId = newId();
    await insertPerson(trx, { id: personId, co_id: coId, status: input.status, created_at: now, updated_at: now });
    await insertName(trx, { id: newId(), co_id: coId, person_id: personId, ...nameParts(input.name), type: 'official', primary_name: 1 });
    for (const [i, ident] of input.identifiers.entries()) {
      await addIdentifierRow(trx, ctx, coId, personId, ident, `identifiers.${i}.identifier`);
    }
    for (const email of input.emails) {
      await insertEmail(trx, { id: newId(), co_id: coId, person_id: personId, mail: email.mail, type: email.type, verified: email.verified ? 1 : 0 });
    }
    await recordHistory(trx, ctx.clock, actor, { coId, personId, action: 'PERSON_CREATED', comment: `CO Person ${formatName(nameParts(input.name))} created with status ${input.status}` });
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
  return inTransaction(ctx.db, async (trx) => {
    // Lock order (src/db/transaction.ts): the CO shared, then the person; one deleted meanwhile is not found.
    await lockCo(trx, coId, 'shared');
    const person = (await lockPerson(trx, coId, personId, 'write')) ? await findPerson(trx, coId, personId) : undefined;
    if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
    const { action, comment, result } = await change(trx, person);
    await updatePerson(trx, coId, personId, { updated_at: ctx.clock.now().toISOString() });
    await recordHistory(trx, ctx.clock, actor, { coId, personId, action, comment });
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: action });
    return result;
  });
}

/** Sets the person's status (CO admins); provisioning follows through the change event. SOURCE_OWNED (409) for a person a source brought in. */
export function setPersonStatus(ctx: CoreContext, actor: Actor, coId: string, personId: string, status: PersonStatus): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    await assertNotSourceOwned(trx, coId, person.source?.id, 'This person’s status', 'status');
    await updatePerson(trx, coId, personId, { status });
    return { action: 'PERSON_STATUS_CHANGED', comment: `Status changed from ${person.status} to ${status}`, result: undefined };
  });
}

/** Adds an identifier and returns its id. Errors: IDENTIFIER_TYPE_UNKNOWN, IDENTIFIER_TAKEN (field `identifier`). */
export function addIdentifier(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: z.infer<typeof identifierInput>): Promise<string> {
  return changePerson(ctx, actor, coId, personId, async (trx) => {
    const id = await addIdentifierRow(trx, ctx, coId, personId, input, 'identifier');
    return { action: 'IDENTIFIER_ADDED', comment: `Identifier ${input.identifier} (${input.type}${input.login ? ', login' : ''}) added`, result: id };
  });
}

/** Removes one of the person's identifiers; IDENTIFIER_NOT_FOUND when it is not theirs. */
export function removeIdentifier(ctx: CoreContext, actor: Actor, coId: string, personId: string, identifierId: string): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const ident = person.identifiers.find((i) => i.id === identifierId);
    if (!ident) throw new AppError(CORE_ERRORS.IDENTIFIER_NOT_FOUND);
    await assertNotSourceOwned(trx, coId, ident.sourceId, `The identifier ${ident.identifier}`);
    await deletePersonPart(trx, 'identifier', coId, identifierId);
    return { action: 'IDENTIFIER_REMOVED', comment: `Identifier ${ident.identifier} (${ident.type}) removed`, result: undefined };
  });
}

/** Adds a name and returns its id; it becomes primary when asked or when it is the first. */
export function addName(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: z.infer<typeof nameInput>): Promise<string> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const id = newId();
    const primary = input.primary || person.names.length === 0;
    if (primary) await clearPrimaryName(trx, coId, personId);
    await insertName(trx, { id, co_id: coId, person_id: personId, ...nameParts(input), type: input.type, primary_name: primary ? 1 : 0 });
    return { action: 'NAME_ADDED', comment: `Name ${formatName(nameParts(input))} (${input.type}) added`, result: id };
  });
}

/** Removes a name other than the primary one (VALIDATION_FAILED); NAME_NOT_FOUND when it is not theirs. */
export function removeName(ctx: CoreContext, actor: Actor, coId: string, personId: string, nameId: string): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const name = person.names.find((n) => n.id === nameId);
    if (!name) throw new AppError(CORE_ERRORS.NAME_NOT_FOUND);
    await assertNotSourceOwned(trx, coId, name.sourceId, `The name ${formatName(name)}`);
    if (name.primary) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: 'The primary name cannot be removed; make another name primary first', field: 'name' });
    await deletePersonPart(trx, 'name', coId, nameId);
    return { action: 'NAME_REMOVED', comment: `Name ${formatName(name)} removed`, result: undefined };
  });
}

/** Adds an email address and returns its id. */
export function addEmail(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: z.infer<typeof emailInput>): Promise<string> {
  return changePerson(ctx, actor, coId, personId, async (trx) => {
    const id = newId();
    await insertEmail(trx, { id, co_id: coId, person_id: personId, mail: input.mail, type: input.type, verified: input.verified ? 1 : 0 });
    return { action: 'EMAIL_ADDED', comment: `Email address ${input.mail} (${input.type}) added`, result: id };
  });
}

/** Removes one of the person's email addresses; EMAIL_NOT_FOUND when it is not theirs. */
export function removeEmail(ctx: CoreContext, actor: Actor, coId: string, personId: string, emailId: string): Promise<void> {
  return changePerson(ctx, actor, coId, personId, async (trx, person) => {
    const email = person.emails.find((e) => e.id === emailId);
    if (!email) throw new AppError(CORE_ERRORS.EMAIL_NOT_FOUND);
    await assertNotSourceOwned(trx, coId, email.sourceId, `The email address ${email.mail}`);
    await deletePersonPart(trx, 'email_address', coId, emailId);
    return { action: 'EMAIL_REMOVED', comment: `Email address ${email.mail} removed`, result: undefined };
  });
}

/** Removes the person and what hangs off them; history stays, with the person detached. SOURCE_OWNED (409) for a person a source brought in (terminate or finalise the source). */
export async function deletePerson(ctx: CoreContext, actor: Actor, coId: string, personId: string): Promise<void> {
  assertAdmin(actor, coId);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    const person = (await lockPerson(trx, coId, personId, 'delete')) ? await findPerson(trx, coId, personId) : undefined;
    if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
    await assertNotSourceOwned(trx, coId, person.source?.id, 'This person');
    // Listeners see the person before the rows go, so they can schedule removal from directories.
    await publishChange(ctx, trx, { kind: 'person-deleted', coId, personId, reason: 'deleted' });
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'PERSON_DELETED', comment: `CO Person ${person.displayName} (${personId}) deleted` });
    await deletePersonRow(trx, coId, personId);
  });
}

/** Adds an identifier type to the CO (CO admins); IDENTIFIER_TYPE_TAKEN (409, field `name`) when it exists, built-in or not. */
export async function addIdentifierType(ctx: CoreContext, actor: Actor, coId: string, name: string): Promise<void> {
  assertAdmin(actor, coId);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    if ((await allIdentifierTypes(trx, coId)).includes(name)) throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_TAKEN, { field: 'name' });
    await insertIdentifierType(trx, { id: newId(), co_id: coId, name });
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'IDENTIFIER_TYPE_ADDED', comment: `Identifier type ${name} added` });
  });
}
