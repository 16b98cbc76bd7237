import { newId } from '../../../db/ids.ts';
import type { CoreContext } from '../../context.ts';
import { addSourceGroupMembers, deleteSourceGroup, removeSourceGroupMembers, setSourceGroupMembers, upsertSourceGroup } from '../source-group.writer.ts';
import { invalidValue, notFound, ScimError, uniqueness } from './scim-error.ts';
import { parseGroupFilter } from './scim-filter.ts';
import { applyGroupPatch, GROUP_SCHEMA, parseScimGroup, SRAM_GROUP_SCHEMA, type ScimGroupData } from './scim-group.input.ts';
import { findScimGroup, findScimGroups, sourceMembersOf, type ScimGroupRow } from './scim-group.repository.ts';
import { parsePatchBody } from './scim-patch.ts';
import { leavesOut, listResponse, locationOf, pagingOf, project, projectionOf, type Projection } from './scim-resource.ts';
import { isSurrogate, SURROGATE_PREFIX, type ScimSource } from './scim-source.ts';
import { sourcePeopleByIds } from './scim-user.repository.ts';
import { translateWriteError } from './scim-write-errors.ts';

/*
 * Groups of a SCIM source. Memberships the source makes carry its source_id and coexist with local
 * memberships of the same group, which it never sees nor touches. Members are named by User id
 * (co_person.id); a member that is not one of this source's users is 400 invalidValue, checked
 * before anything is written.
 */

function groupResource(s: ScimSource, row: ScimGroupRow, members: string[] | undefined): Record<string, unknown> {
  return {
    schemas: row.description ? [GROUP_SCHEMA, SRAM_GROUP_SCHEMA] : [GROUP_SCHEMA],
    id: row.id,
    ...(isSurrogate(row.externalId) ? {} : { externalId: row.externalId }),
    displayName: row.name,
    ...(members ? { members: members.map((id) => ({ value: id, $ref: locationOf(s.base, 'Users', id), type: 'User' })) } : {}),
    ...(row.description ? { [SRAM_GROUP_SCHEMA]: { description: row.description } } : {}),
    meta: { resourceType: 'Group', created: row.createdAt, lastModified: row.createdAt, location: locationOf(s.base, 'Groups', row.id) },
  };
}

async function render(ctx: CoreContext, s: ScimSource, rows: ScimGroupRow[], projection: Projection): Promise<Array<Record<string, unknown>>> {
  const members = leavesOut(projection, 'members') ? undefined : await sourceMembersOf(ctx.db, s.source.coId, s.source.id, rows.map((r) => r.id));
  return rows.map((r) => project(groupResource(s, r, members?.get(r.id) ?? (members ? [] : undefined)), projection));
}

async function rowOf(ctx: CoreContext, s: ScimSource, id: string): Promise<ScimGroupRow> {
  const row = await findScimGroup(ctx.db, s.source.coId, s.source.id, id);
  if (!row) throw notFound('Group', id);
  return row;
}

/** User ids → the people's external ids at this source; any id not of this source's users is invalidValue. */
async function memberExternalIds(ctx: CoreContext, s: ScimSource, ids: string[]): Promise<string[]> {
  const found = await sourcePeopleByIds(ctx.db, s.source.coId, s.source.id, ids);
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length > 0) throw invalidValue(`members: no user of this source has the id ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ''}`);
  return ids.map((id) => found.get(id)!);
}

/** Writes name and description, then the member set (each a transaction of the source writer). */
async function write(ctx: CoreContext, s: ScimSource, externalId: string, data: Pick<ScimGroupData, 'displayName' | 'description'>, members: { set?: string[]; add?: string[]; remove?: string[] }): Promise<string> {
  try {
    const { groupId } = await upsertSourceGroup(ctx, s.source, { externalId, name: data.displayName, description: data.description, kind: 'standard' });
    const ref = { externalId, kind: 'standard' as const };
    if (members.set) await setSourceGroupMembers(ctx, s.source, ref, members.set.map((personExternalId) => ({ personExternalId })));
    if (members.add?.length) await addSourceGroupMembers(ctx, s.source, ref, members.add.map((personExternalId) => ({ personExternalId })));
    if (members.remove?.length) await removeSourceGroupMembers(ctx, s.source, ref, members.remove);
    return groupId!;
  } catch (e) {
    throw translateWriteError(e);
  }
}

/** GET /Groups/:id (excludedAttributes=members skips reading them). Errors: 404. */
export async function getGroup(ctx: CoreContext, s: ScimSource, id: string, projection: Projection): Promise<Record<string, unknown>> {
  return (await render(ctx, s, [await rowOf(ctx, s, id)], projection))[0]!;
}

/**
 * POST /Groups: the group and its members. Errors: invalidValue/invalidSyntax (see
 * parseScimGroup; a member not of this source), 409 uniqueness (externalId of another group of
 * this source; displayName of another group of the CO).
 */
export async function createGroup(ctx: CoreContext, s: ScimSource, body: unknown): Promise<Record<string, unknown>> {
  const data = parseScimGroup(body);
  if (data.externalId !== undefined && isSurrogate(data.externalId)) throw invalidValue(`externalId may not start with ${SURROGATE_PREFIX}`);
  if (data.externalId !== undefined && (await findScimGroups(ctx.db, s.source.coId, s.source.id, { externalId: data.externalId }, { startIndex: 1, count: 1 })).total > 0) {
    throw uniqueness(`A group with externalId ${data.externalId} exists`);
  }
  const members = await memberExternalIds(ctx, s, data.members);
  const clash = await ctx.db.selectFrom('co_group').select('id').where('co_id', '=', s.source.coId).where('name', '=', data.displayName.normalize('NFC')).executeTakeFirst();
  if (clash) throw uniqueness(`A group named ${data.displayName} exists in the CO`);
  const id = await write(ctx, s, data.externalId ?? `${SURROGATE_PREFIX}${newId()}`, data, members.length > 0 ? { set: members } : {});
  return getGroup(ctx, s, id, {});
}

/** PUT /Groups/:id: name, description and the whole member list become the body's. Errors as createGroup, 404. */
export async function replaceGroup(ctx: CoreContext, s: ScimSource, id: string, body: unknown): Promise<Record<string, unknown>> {
  const row = await rowOf(ctx, s, id);
  const data = parseScimGroup(body);
  if (data.externalId !== undefined && data.externalId !== row.externalId) throw new ScimError(400, 'mutability', 'externalId cannot change');
  const members = await memberExternalIds(ctx, s, data.members);
  await write(ctx, s, row.externalId, data, { set: members });
  return getGroup(ctx, s, id, {});
}

/**
 * PATCH /Groups/:id (see applyGroupPatch). Only adds: the added members are written; only
 * removes: the removed ones; both or a replace: the resulting set. Answers 204 (RFC 7644 §3.5.2
 * allows it; Entra ID and Okta expect it) unless `attributes` asks for the resource.
 */
export async function patchGroup(ctx: CoreContext, s: ScimSource, id: string, body: unknown): Promise<void> {
  const ops = parsePatchBody(body);
  const row = await rowOf(ctx, s, id);
  const current = new Set((await sourceMembersOf(ctx.db, s.source.coId, s.source.id, [row.id])).get(row.id));
  const plan = applyGroupPatch({ displayName: row.name, description: row.description, externalId: isSurrogate(row.externalId) ? undefined : row.externalId, members: current }, ops);
  const added = [...plan.members].filter((m) => !current.has(m));
  const removed = [...current].filter((m) => !plan.members.has(m));
  // Members being removed were the source's; those added must be this source's users.
  const addedExternal = await memberExternalIds(ctx, s, added);
  const removedExternal = [...(await sourcePeopleByIds(ctx.db, s.source.coId, s.source.id, removed)).values()];
  await write(ctx, s, row.externalId, plan, added.length > 0 && removed.length > 0 ? { set: await memberExternalIds(ctx, s, [...plan.members]) } : { add: addedExternal, remove: removedExternal });
}

/** DELETE /Groups/:id: the group and its memberships go. Errors: 404; 409 while CO Services are restricted to it. */
export async function deleteGroup(ctx: CoreContext, s: ScimSource, id: string): Promise<void> {
  const row = await rowOf(ctx, s, id);
  try {
    await deleteSourceGroup(ctx, s.source, row.externalId);
  } catch (e) {
    throw translateWriteError(e);
  }
}

/** GET /Groups: `displayName eq` / `externalId eq` / `id eq`, paging, projection. */
export async function listGroups(ctx: CoreContext, s: ScimSource, query: Record<string, unknown>): Promise<Record<string, unknown>> {
  const filter = typeof query.filter === 'string' && query.filter.trim() !== '' ? parseGroupFilter(query.filter) : {};
  const paging = pagingOf(query);
  const projection = projectionOf(query);
  const { total, rows } = await findScimGroups(ctx.db, s.source.coId, s.source.id, filter, paging);
  return listResponse(total, paging, await render(ctx, s, rows, projection));
}
