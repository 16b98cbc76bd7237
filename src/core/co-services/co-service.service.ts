import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { canReadCo, isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { findGroup, type Group } from '../groups/group.repository.ts';
import { currentGroupsOf } from '../groups/group.service.ts';
import { recordHistory } from '../history/history.service.ts';
import { findPersonStatus } from '../people/person.repository.ts';
import { allIdentifierTypes, isMemberStatus } from '../people/person.service.ts';
import type { PersonStatus } from '../people/person.table.ts';
import type { CoServiceInput } from './co-service.schema.ts';
import { deleteServiceRow, findService, insertService, listServicesOfCo, updateServiceRow, type CoService } from './co-service.repository.ts';
import { inTransaction } from '../../db/transaction.ts';

export type { CoService } from './co-service.repository.ts';

/** The CO's services (any status), for those who read the CO (`canReadCo`); FORBIDDEN otherwise. */
export async function listServices(ctx: CoreContext, actor: Actor, coId: string): Promise<CoService[]> {
  assertThat(canReadCo(actor, coId), CORE_ERRORS.FORBIDDEN);
  return listServicesOfCo(ctx.db, coId);
}

/** One service of the CO; SERVICE_NOT_FOUND (404) also when the actor cannot read the CO. */
export async function getService(ctx: CoreContext, actor: Actor, coId: string, serviceId: string): Promise<CoService> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  const service = await findService(ctx.db, coId, serviceId);
  if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  return service;
}

/** Whether the rule needs the person's current groups (a group gate or a group-based visibility). */
const needsGroups = (service: CoService): boolean =>
  service.coGroupId !== null || service.visibility === 'co_admin' || service.visibility === 'co_group_member';

/**
 * The COmanage CoService visibility rule, without queries: the service must be active, the person
 * a member (active or grace period), in the service's group when it has one, and allowed by the
 * visibility (`co_admin`: CO admins, by flag or admins group; `co_group_member`: the group;
 * `co_member`/`unauthenticated`: every member). `groups` are the person's current groups (`currentGroupsOf`).
 */
export function mayUseService(service: CoService, person: { status: PersonStatus }, groups: readonly Group[], opts: { isCoAdmin: boolean } = { isCoAdmin: false }): boolean {
  if (service.status !== 'active' || !isMemberStatus(person.status)) return false;
  if (service.coGroupId && !groups.some((g) => g.id === service.coGroupId)) return false;
  switch (service.visibility) {
    case 'co_admin':
      return opts.isCoAdmin || groups.some((g) => g.type === 'admins');
    case 'co_group_member':
      return service.coGroupId ? groups.some((g) => g.id === service.coGroupId) : true;
    case 'co_member':
    case 'unauthenticated':
      return true;
  }
}

/**
 * May this person use the service now? See `mayUseService`; the person's groups are read only when
 * the service's rule needs them. To decide for many services, use `servicesUsableBy`.
 */
export async function personMayUseService(
  db: Executor,
  service: CoService,
  person: { id: string; status: PersonStatus },
  now: Date,
  opts: { isCoAdmin: boolean } = { isCoAdmin: false },
): Promise<boolean> {
  if (service.status !== 'active' || !isMemberStatus(person.status)) return false;
  const groups = needsGroups(service) ? await currentGroupsOf(db, service.coId, person.id, now) : [];
  return mayUseService(service, person, groups, opts);
}

/**
 * The services of one CO that the person may use now, in the given order: the person's groups are
 * read once (three queries at most) however many services there are. Every service must belong to `coId`.
 */
export async function servicesUsableBy(
  db: Executor,
  coId: string,
  services: readonly CoService[],
  person: { id: string; status: PersonStatus },
  now: Date,
  opts: { isCoAdmin: boolean } = { isCoAdmin: false },
): Promise<CoService[]> {
  if (!isMemberStatus(person.status)) return [];
  const groups = services.some((s) => s.status === 'active' && needsGroups(s)) ? await currentGroupsOf(db, coId, person.id, now) : [];
  return services.filter((s) => mayUseService(s, person, groups, opts));
}

async function checkInput(db: Executor, coId: string, input: CoServiceInput): Promise<void> {
  if (input.coGroupId && !(await findGroup(db, coId, input.coGroupId))) {
    throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND, { field: 'coGroupId' });
  }
  if (!(await allIdentifierTypes(db, coId)).includes(input.identifierType)) {
    throw new AppError(CORE_ERRORS.IDENTIFIER_TYPE_UNKNOWN, { field: 'identifierType' });
  }
  if (input.visibility === 'co_group_member' && !input.coGroupId) {
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'coGroupId', message: 'Choose the group whose members see the service' });
  }
}

/**
 * Creates a service (CO admins). Errors: CO_NOT_FOUND, GROUP_NOT_FOUND (`coGroupId`),
 * IDENTIFIER_TYPE_UNKNOWN (`identifierType`), VALIDATION_FAILED (group visibility without a group),
 * SERVICE_SHORT_LABEL_TAKEN (409, `shortLabel`).
 */
export async function createService(ctx: CoreContext, actor: Actor, coId: string, input: CoServiceInput): Promise<CoService> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    // A service reaches the people who may use it: alone in the CO (lock order in src/db/transaction.ts).
    await lockCo(trx, coId, 'exclusive');
    await getCo(trx, coId);
    await checkInput(trx, coId, input);
    const id = newId();
    await insertService(trx, coId, id, input, ctx.clock.now().toISOString());
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId: id, action: 'SERVICE_CREATED', comment: `CO Service ${input.name} created` });
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId: id, reason: 'created' });
    return (await findService(trx, coId, id))!;
  });
}

/** Replaces a service's fields (CO admins); errors as `createService`, and SERVICE_NOT_FOUND. */
export async function updateService(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, input: CoServiceInput): Promise<CoService> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const before = await findService(trx, coId, serviceId);
    if (!before) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    await checkInput(trx, coId, input);
    await updateServiceRow(trx, coId, serviceId, input, ctx.clock.now().toISOString());
    const statusNote = before.status !== input.status ? ` (status ${before.status} → ${input.status})` : '';
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId, action: 'SERVICE_UPDATED', comment: `CO Service ${input.name} updated${statusNote}` });
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId, reason: 'updated' });
    return (await findService(trx, coId, serviceId))!;
  });
}

/** Suspends or reactivates a service (CO admins), keeping its other fields. */
export async function setServiceStatus(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, status: 'active' | 'suspended'): Promise<CoService> {
  const service = await getService(ctx, actor, coId, serviceId);
  const { id: _id, coId: _co, createdAt: _c, updatedAt: _u, ...input } = service;
  return updateService(ctx, actor, coId, serviceId, { ...input, status });
}

/** Deletes a service (CO admins); SERVICE_NOT_FOUND when the CO has no such service. */
export async function deleteService(ctx: CoreContext, actor: Actor, coId: string, serviceId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const service = await findService(trx, coId, serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    // Listeners see the service before it goes, so tokens for it can be withdrawn from directories.
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId, reason: 'deleted' });
    await deleteServiceRow(trx, coId, serviceId);
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SERVICE_DELETED', comment: `CO Service ${service.name} deleted` });
  });
}

/**
 * Services the signed-in actor can see in the CO (used by plugins that list services to people):
 * a person of the CO sees what they may use; a CO admin who is no person here sees every service;
 * anyone else nothing. A fixed number of queries, however many services.
 */
export async function servicesVisibleTo(ctx: CoreContext, actor: Actor, coId: string): Promise<CoService[]> {
  const personId = personIdOf(actor, coId);
  const all = await listServicesOfCo(ctx.db, coId);
  if (!personId) return isCoAdmin(actor, coId) ? all : [];
  const status = await findPersonStatus(ctx.db, coId, personId);
  if (!status) return [];
  return servicesUsableBy(ctx.db, coId, all, { id: personId, status }, ctx.clock.now(), { isCoAdmin: isCoAdmin(actor, coId) });
}
