import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { isId, newId } from '../../db/ids.ts';
import { canReadCo, isCoAdmin, personIdOf, type Actor } from '../auth/actor.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { currentGroupsOf, findGroup } from '../groups/group.service.ts';
import { recordHistory } from '../history/history.service.ts';
import { allIdentifierTypes, isMemberStatus } from '../people/person.service.ts';
import type { PersonStatus } from '../people/person.table.ts';
import type { CoServiceInput } from './co-service.schema.ts';
import type { CoServiceTable, ServiceVisibility } from './co-service.table.ts';

export interface CoService {
  id: string;
  coId: string;
  name: string;
  description: string;
  shortLabel: string;
  coGroupId: string | null;
  serviceUrl: string | null;
  contactEmail: string | null;
  logoUrl: string | null;
  entitlementUri: string | null;
  visibility: ServiceVisibility;
  identifierType: string;
  status: 'active' | 'suspended';
  createdAt: string;
  updatedAt: string;
}

const toService = (r: CoServiceTable): CoService => ({
  id: r.id,
  coId: r.co_id,
  name: r.name,
  description: r.description,
  shortLabel: r.short_label,
  coGroupId: r.co_group_id,
  serviceUrl: r.service_url,
  contactEmail: r.contact_email,
  logoUrl: r.logo_url,
  entitlementUri: r.entitlement_uri,
  visibility: r.visibility,
  identifierType: r.identifier_type,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function findService(db: Executor, coId: string, serviceId: string): Promise<CoService | undefined> {
  if (!isId(serviceId)) return undefined;
  const row = await db.selectFrom('co_service').selectAll().where('co_id', '=', coId).where('id', '=', serviceId).executeTakeFirst();
  return row && toService(row);
}

export async function listServicesOfCo(db: Executor, coId: string): Promise<CoService[]> {
  const rows = await db.selectFrom('co_service').selectAll().where('co_id', '=', coId).orderBy('name').execute();
  return rows.map(toService);
}

export async function listServices(ctx: CoreContext, actor: Actor, coId: string): Promise<CoService[]> {
  assertThat(canReadCo(actor, coId), CORE_ERRORS.FORBIDDEN);
  return listServicesOfCo(ctx.db, coId);
}

export async function getService(ctx: CoreContext, actor: Actor, coId: string, serviceId: string): Promise<CoService> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  const service = await findService(ctx.db, coId, serviceId);
  if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  return service;
}

/**
 * May this person use the service now? The service must be active, the person a member (active or
 * grace period), and the visibility and group rules must let them see it.
 */
export async function personMayUseService(
  db: Executor,
  service: CoService,
  person: { id: string; status: PersonStatus },
  now: Date,
  opts: { isCoAdmin: boolean } = { isCoAdmin: false },
): Promise<boolean> {
  if (service.status !== 'active' || !isMemberStatus(person.status)) return false;
  const groups = service.coGroupId || service.visibility === 'co_admin' || service.visibility === 'co_group_member'
    ? await currentGroupsOf(db, service.coId, person.id, now)
    : [];
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

function toRow(input: CoServiceInput) {
  return {
    name: input.name,
    description: input.description,
    short_label: input.shortLabel,
    co_group_id: input.coGroupId ?? null,
    service_url: input.serviceUrl ?? null,
    contact_email: input.contactEmail ?? null,
    logo_url: input.logoUrl ?? null,
    entitlement_uri: input.entitlementUri ?? null,
    visibility: input.visibility,
    identifier_type: input.identifierType,
    status: input.status,
  };
}

export async function createService(ctx: CoreContext, actor: Actor, coId: string, input: CoServiceInput): Promise<CoService> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    await getCo(trx, coId);
    await checkInput(trx, coId, input);
    const id = newId();
    const now = ctx.clock.now().toISOString();
    try {
      await trx.insertInto('co_service').values({ id, co_id: coId, ...toRow(input), created_at: now, updated_at: now }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.SERVICE_SHORT_LABEL_TAKEN, { field: 'shortLabel' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId: id, action: 'SERVICE_CREATED', comment: `CO Service ${input.name} created` });
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId: id, reason: 'created' });
    return (await findService(trx, coId, id))!;
  });
}

export async function updateService(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, input: CoServiceInput): Promise<CoService> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const before = await findService(trx, coId, serviceId);
    if (!before) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    await checkInput(trx, coId, input);
    try {
      await trx.updateTable('co_service').set({ ...toRow(input), updated_at: ctx.clock.now().toISOString() }).where('id', '=', serviceId).where('co_id', '=', coId).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.SERVICE_SHORT_LABEL_TAKEN, { field: 'shortLabel' });
      throw e;
    }
    const statusNote = before.status !== input.status ? ` (status ${before.status} → ${input.status})` : '';
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId, action: 'SERVICE_UPDATED', comment: `CO Service ${input.name} updated${statusNote}` });
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId, reason: 'updated' });
    return (await findService(trx, coId, serviceId))!;
  });
}

export async function setServiceStatus(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, status: 'active' | 'suspended'): Promise<CoService> {
  const service = await getService(ctx, actor, coId, serviceId);
  const { id: _id, coId: _co, createdAt: _c, updatedAt: _u, ...input } = service;
  return updateService(ctx, actor, coId, serviceId, { ...input, status });
}

export async function deleteService(ctx: CoreContext, actor: Actor, coId: string, serviceId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await ctx.db.transaction().execute(async (trx) => {
    const service = await findService(trx, coId, serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    // Listeners see the service before it goes, so tokens for it can be withdrawn from directories.
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId, reason: 'deleted' });
    await trx.deleteFrom('co_service').where('id', '=', serviceId).where('co_id', '=', coId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SERVICE_DELETED', comment: `CO Service ${service.name} deleted` });
  });
}

/** Services the person can see in the CO (used by plugins that list services to people). */
export async function servicesVisibleTo(ctx: CoreContext, actor: Actor, coId: string): Promise<CoService[]> {
  const personId = personIdOf(actor, coId);
  const all = await listServicesOfCo(ctx.db, coId);
  if (!personId) return isCoAdmin(actor, coId) ? all : [];
  const person = await ctx.db.selectFrom('co_person').select(['id', 'status']).where('id', '=', personId).executeTakeFirst();
  if (!person) return [];
  const out: CoService[] = [];
  for (const s of all) if (await personMayUseService(ctx.db, s, person, ctx.clock.now(), { isCoAdmin: isCoAdmin(actor, coId) })) out.push(s);
  return out;
}
