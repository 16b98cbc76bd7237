import { newId } from '../../../db/ids.ts';
import type { CoreContext } from '../../context.ts';
import { loadSourcePeople, type PersonValue } from '../source-state.ts';
import { detachSourcePerson, suspendSourcePerson, upsertSourcePerson } from '../source-person.writer.ts';
import type { SourcePersonRecord } from '../source-records.ts';
import { notFound, ScimError, uniqueness, invalidValue } from './scim-error.ts';
import { parseUserFilter } from './scim-filter.ts';
import { applyUserPatch, parsePatchBody } from './scim-patch.ts';
import { listResponse, locationOf, pagingOf, project, projectionOf, type Projection } from './scim-resource.ts';
import { isSurrogate, SURROGATE_PREFIX, type ScimSource } from './scim-source.ts';
import { findScimPeople, findScimPerson, personHoldingUserName, type ScimPersonRow } from './scim-user.repository.ts';
import { parseScimUser, SRAM_USER_SCHEMA, USER_SCHEMA, type ScimUserData } from './scim-user.input.ts';
import { translateWriteError } from './scim-write-errors.ts';

/*
 * Users of a SCIM source: every write goes through the source writer (one transaction with its
 * history and provisioning jobs); reads see only the people this source owns, so a client that
 * sweeps (SRAM deletes every listed object it does not own) never sees anyone else.
 */

/** The source person record a User becomes (see ScimUserData for the mapping). */
function recordOf(s: ScimSource, data: ScimUserData, externalId: string): SourcePersonRecord {
  const given = data.givenName ?? data.displayName ?? data.userName;
  return {
    externalId,
    status: data.active ? 'active' : 'suspended',
    names: [{ given, family: data.givenName !== undefined ? (data.familyName ?? null) : null, middle: data.middleName ?? null, type: 'official', primary: true }],
    identifiers: [
      { identifier: data.userName, type: 'uid', login: false },
      ...(data.eduPersonUniqueId !== undefined ? [{ identifier: data.eduPersonUniqueId, type: s.oidcType, login: true }] : []),
    ],
    emails: data.emails.map((e) => ({ mail: e.value, type: e.type, verified: false })),
  };
}

/** A User resource (RFC 7643 §4.1) of one stored person. */
function userResource(s: ScimSource, row: ScimPersonRow, value: PersonValue | undefined): Record<string, unknown> {
  const v = value ?? { status: row.status, names: [], identifiers: [], emails: [] };
  const name = v.names.find((n) => n.primary) ?? v.names[0];
  const epuid = v.identifiers.find((i) => i.type === s.oidcType && i.login)?.identifier;
  const formatted = name ? [name.given, name.middle, name.family].filter((p) => p).join(' ') : undefined;
  return {
    schemas: epuid !== undefined ? [USER_SCHEMA, SRAM_USER_SCHEMA] : [USER_SCHEMA],
    id: row.id,
    ...(isSurrogate(row.externalId) ? {} : { externalId: row.externalId }),
    userName: v.identifiers.find((i) => i.type === 'uid')?.identifier ?? '',
    ...(name ? { name: { givenName: name.given, ...(name.middle ? { middleName: name.middle } : {}), ...(name.family ? { familyName: name.family } : {}), formatted }, displayName: formatted } : {}),
    active: v.status === 'active' || v.status === 'grace_period',
    emails: v.emails.map((e, i) => ({ value: e.mail, type: e.type, primary: i === 0 })),
    ...(epuid !== undefined ? { [SRAM_USER_SCHEMA]: { eduPersonUniqueId: epuid } } : {}),
    meta: { resourceType: 'User', created: row.createdAt, lastModified: row.updatedAt, location: locationOf(s.base, 'Users', row.id) },
  };
}

async function render(ctx: CoreContext, s: ScimSource, rows: ScimPersonRow[]): Promise<Array<Record<string, unknown>>> {
  if (rows.length === 0) return [];
  const parts = await loadSourcePeople(ctx.db, s.source.coId, s.source.id, rows.map((r) => r.id));
  return rows.map((r) => userResource(s, r, parts.get(r.externalId)?.value));
}

async function rowOf(ctx: CoreContext, s: ScimSource, id: string): Promise<ScimPersonRow> {
  const row = await findScimPerson(ctx.db, s.source.coId, s.source.id, id);
  if (!row) throw notFound('User', id);
  return row;
}

/** userName must be free in the CO (case-insensitively), but for `selfId`. */
async function assertUserNameFree(ctx: CoreContext, s: ScimSource, userName: string, selfId: string | undefined): Promise<void> {
  const holder = await personHoldingUserName(ctx.db, s.source.coId, userName);
  if (holder !== undefined && holder !== selfId) throw uniqueness(`userName ${userName} is taken`);
}

async function write(ctx: CoreContext, s: ScimSource, data: ScimUserData, externalId: string): Promise<string> {
  try {
    return (await upsertSourcePerson(ctx, s.source, recordOf(s, data, externalId))).personId;
  } catch (e) {
    throw translateWriteError(e);
  }
}

/** GET /Users/:id. Errors: 404 (none of this source's). */
export async function getUser(ctx: CoreContext, s: ScimSource, id: string, projection: Projection): Promise<Record<string, unknown>> {
  return project((await render(ctx, s, [await rowOf(ctx, s, id)]))[0]!, projection);
}

/**
 * POST /Users: creates the person. Errors: 400 invalidValue/invalidSyntax (see parseScimUser),
 * 409 uniqueness (userName held by anyone in the CO, externalId held by another user of this source,
 * eduPersonUniqueId held by another person).
 */
export async function createUser(ctx: CoreContext, s: ScimSource, body: unknown): Promise<Record<string, unknown>> {
  const data = parseScimUser(body);
  if (data.externalId !== undefined && isSurrogate(data.externalId)) throw invalidValue(`externalId may not start with ${SURROGATE_PREFIX}`);
  await assertUserNameFree(ctx, s, data.userName, undefined);
  if (data.externalId !== undefined && (await findScimPeople(ctx.db, s.source.coId, s.source.id, { externalId: data.externalId }, s.oidcType, { startIndex: 1, count: 1 })).total > 0) {
    throw uniqueness(`A user with externalId ${data.externalId} exists`);
  }
  const id = await write(ctx, s, data, data.externalId ?? `${SURROGATE_PREFIX}${newId()}`);
  return getUser(ctx, s, id, {});
}

async function replaceWith(ctx: CoreContext, s: ScimSource, row: ScimPersonRow, data: ScimUserData): Promise<Record<string, unknown>> {
  if (data.externalId !== undefined && data.externalId !== row.externalId) {
    throw new ScimError(400, 'mutability', `externalId of user ${row.id} is ${isSurrogate(row.externalId) ? 'not set' : row.externalId} and cannot change`);
  }
  await assertUserNameFree(ctx, s, data.userName, row.id);
  await write(ctx, s, data, row.externalId);
  return getUser(ctx, s, row.id, {});
}

/** PUT /Users/:id: the user becomes the body (absent attributes are cleared). Errors as createUser, and 404. */
export async function replaceUser(ctx: CoreContext, s: ScimSource, id: string, body: unknown): Promise<Record<string, unknown>> {
  const row = await rowOf(ctx, s, id);
  return replaceWith(ctx, s, row, parseScimUser(body));
}

/** PATCH /Users/:id (RFC 7644 §3.5.2; see applyUserPatch for the paths). Errors as replaceUser, invalidPath. */
export async function patchUser(ctx: CoreContext, s: ScimSource, id: string, body: unknown): Promise<Record<string, unknown>> {
  const ops = parsePatchBody(body);
  const row = await rowOf(ctx, s, id);
  const current = (await render(ctx, s, [row]))[0]!;
  return replaceWith(ctx, s, row, parseScimUser(applyUserPatch(current, ops)));
}

/**
 * DELETE /Users/:id: the person is suspended (tokens stop at once) and detached from the source —
 * kept in Tessera as a local person, never deleted. Errors: 404.
 */
export async function deleteUser(ctx: CoreContext, s: ScimSource, id: string): Promise<void> {
  const row = await rowOf(ctx, s, id);
  try {
    await suspendSourcePerson(ctx, s.source, row.externalId, 'deleted by the SCIM client');
    await detachSourcePerson(ctx, s.source, row.externalId);
  } catch (e) {
    throw translateWriteError(e);
  }
}

/** GET /Users: filter (see parseUserFilter), paging in a stable order, projection. */
export async function listUsers(ctx: CoreContext, s: ScimSource, query: Record<string, unknown>): Promise<Record<string, unknown>> {
  const filter = typeof query.filter === 'string' && query.filter.trim() !== '' ? parseUserFilter(query.filter) : {};
  const paging = pagingOf(query);
  const projection = projectionOf(query);
  const { total, rows } = await findScimPeople(ctx.db, s.source.coId, s.source.id, filter, s.oidcType, paging);
  return listResponse(total, paging, (await render(ctx, s, rows)).map((r) => project(r, projection)));
}
