import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import type { CoServiceInput } from './co-service.schema.ts';
import type { CoServiceTable, ServiceVisibility } from './co-service.table.ts';

/** A CO Service (COmanage CoService): what people of the CO may use, gated by visibility and group. */
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

const shortLabelTaken = () => new AppError(CORE_ERRORS.SERVICE_SHORT_LABEL_TAKEN, { field: 'shortLabel' });

/** One service of the CO; undefined for a malformed id or another CO's service. */
export async function findService(db: Executor, coId: string, serviceId: string): Promise<CoService | undefined> {
  if (!isId(serviceId)) return undefined;
  const row = await db.selectFrom('co_service').selectAll().where('co_id', '=', coId).where('id', '=', serviceId).executeTakeFirst();
  return row && toService(row);
}

/** Every service of the CO, by name, whatever its status or visibility (no authorization here). */
export async function listServicesOfCo(db: Executor, coId: string): Promise<CoService[]> {
  const rows = await db.selectFrom('co_service').selectAll().where('co_id', '=', coId).orderBy('name').execute();
  return rows.map(toService);
}

/** Names of the CO's services restricted to this group, by name. */
export async function serviceNamesRestrictedTo(db: Executor, coId: string, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('co_service').select('name').where('co_id', '=', coId).where('co_group_id', '=', groupId).orderBy('name').execute();
  return rows.map((r) => r.name);
}

/**
 * Inserts a service of the CO with id and timestamps (ISO) given. A short label the CO uses already,
 * ignoring case (`co_service_short_label_uq`), is SERVICE_SHORT_LABEL_TAKEN (409, field `shortLabel`).
 */
export async function insertService(db: Executor, coId: string, id: string, input: CoServiceInput, now: string): Promise<void> {
  await mapUniqueViolation(db.insertInto('co_service').values({ id, co_id: coId, ...toRow(input), created_at: now, updated_at: now }).execute(), shortLabelTaken);
}

/** Replaces a service's fields from the input; errors as `insertService`. */
export async function updateServiceRow(db: Executor, coId: string, serviceId: string, input: CoServiceInput, now: string): Promise<void> {
  await mapUniqueViolation(db.updateTable('co_service').set({ ...toRow(input), updated_at: now }).where('co_id', '=', coId).where('id', '=', serviceId).execute(), shortLabelTaken);
}

/** Deletes a service of the CO. */
export async function deleteServiceRow(db: Executor, coId: string, serviceId: string): Promise<void> {
  await db.deleteFrom('co_service').where('co_id', '=', coId).where('id', '=', serviceId).execute();
}
