import { invalidPath, invalidValue, ScimError } from './scim-error.ts';
import { eqValue, valuePath, type PatchOperation } from './scim-patch.ts';
import { asObject, canonicalKeys, optionalString } from './scim-user.input.ts';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SRAM_GROUP_SCHEMA = 'urn:mace:surf.nl:sram:scim:extension:Group';

/** A Group as Tessera keeps it: its name, description and the SCIM ids (User ids) of its members. */
export interface ScimGroupData {
  displayName: string;
  externalId: string | undefined;
  /** SRAM's group extension `description`, else "". */
  description: string;
  /** undefined when the body has no `members` (PUT then leaves none: RFC 7644 §3.5.1 replaces). */
  members: string[];
}

const KNOWN = ['schemas', 'id', 'meta', 'externalId', 'displayName', 'members', SRAM_GROUP_SCHEMA];

/** A members list (`[{ value, display?, $ref?, type? }]`) → the member ids; `""` entries are absent. */
export function memberIdsOf(value: unknown, attribute = 'members'): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (!Array.isArray(value)) throw invalidValue(`${attribute} must be an array`);
  const ids: string[] = [];
  for (const [i, raw] of value.entries()) {
    const m = canonicalKeys(asObject(raw, `${attribute}[${i}]`), ['value', 'display', '$ref', 'type'], `${attribute}[${i}]`);
    const id = optionalString(m.value, `${attribute}[${i}].value`);
    if (id !== undefined) ids.push(id);
  }
  return [...new Set(ids)];
}

/**
 * A SCIM Group body (POST or PUT) → ScimGroupData: displayName required (at most 128 characters, as the core's groups),
 * members by User id, SRAM's extension (description, urn, labels, links) accepted. Unknown
 * attributes: invalidSyntax; wrong types: invalidValue.
 */
export function parseScimGroup(body: unknown): ScimGroupData {
  const g = canonicalKeys(asObject(body, '(body)'), KNOWN, '');
  const displayName = optionalString(g.displayName, 'displayName');
  if (displayName === undefined) throw invalidValue('displayName is required');
  if (displayName.length > 128) throw invalidValue('displayName is longer than 128 characters');
  const ext = g[SRAM_GROUP_SCHEMA] === undefined || g[SRAM_GROUP_SCHEMA] === null ? {} : canonicalKeys(asObject(g[SRAM_GROUP_SCHEMA], SRAM_GROUP_SCHEMA), ['description', 'urn', 'labels', 'links'], SRAM_GROUP_SCHEMA);
  optionalString(ext.urn, `${SRAM_GROUP_SCHEMA}:urn`);
  return {
    displayName,
    externalId: optionalString(g.externalId, 'externalId'),
    description: (optionalString(ext.description, `${SRAM_GROUP_SCHEMA}:description`) ?? '').slice(0, 1000),
    members: memberIdsOf(g.members),
  };
}

/**
 * What a Group PATCH does, computed from the operations in order over the group's current source
 * members: the new name, description, and the member set; `added`/`removed` against the current set.
 */
export interface GroupPatchPlan {
  displayName: string;
  description: string;
  externalId: string | undefined;
  members: Set<string>;
}

/**
 * Applies Group PATCH operations (RFC 7644 §3.5.2) to a plan: `members` add / remove (Entra's
 * `Remove` with a value list removes only those; without a value, all) / replace;
 * `members[value eq "id"]` remove (Okta); `displayName`, `externalId` and SRAM's description
 * replace; a path-less op applies each key of its value. Other paths: invalidPath.
 */
export function applyGroupPatch(plan: GroupPatchPlan, ops: readonly PatchOperation[]): GroupPatchPlan {
  const out: GroupPatchPlan = { ...plan, members: new Set(plan.members) };
  const apply = (op: PatchOperation['op'], path: string, value: unknown): void => {
    const vp = valuePath(path);
    if (vp) {
      const id = eqValue(vp.filter, 'value');
      if (vp.attr !== 'members' || id === undefined || vp.sub !== undefined) throw invalidPath(`${path} is not a path Tessera writes`);
      if (op !== 'remove') throw invalidPath(`${op} on ${path}: use add on members`);
      out.members.delete(id);
      return;
    }
    const p = path.toLowerCase().replace(`${GROUP_SCHEMA.toLowerCase()}:`, '');
    if (p === 'members') {
      const ids = memberIdsOf(value);
      if (op === 'add') for (const id of ids) out.members.add(id);
      else if (op === 'replace') out.members = new Set(ids);
      else if (value === undefined || value === null) out.members.clear();
      else for (const id of ids) out.members.delete(id);
    } else if (p === 'displayname') {
      const name = op === 'remove' ? undefined : optionalString(value, 'displayName');
      if (name === undefined) throw invalidValue('displayName is required');
      out.displayName = name;
    } else if (p === 'externalid') {
      const ext = op === 'remove' ? undefined : optionalString(value, 'externalId');
      if (ext !== out.externalId) throw new ScimError(400, 'mutability', 'externalId cannot change');
    } else if (p === SRAM_GROUP_SCHEMA.toLowerCase()) {
      out.description = op === 'remove' ? '' : (optionalString(asObject(value, path).description, 'description') ?? '');
    } else if (p === `${SRAM_GROUP_SCHEMA.toLowerCase()}:description`) {
      out.description = op === 'remove' ? '' : (optionalString(value, 'description') ?? '');
    } else if (p === 'id' || p === 'schemas' || p === 'meta') {
      // Okta repeats the id in a path-less replace.
    } else {
      throw invalidPath(`${path} is not a path Tessera writes`);
    }
  };
  for (const { op, path, value } of ops) {
    if (path !== undefined) apply(op, path, value);
    else for (const [k, v] of Object.entries(asObject(value, 'value'))) apply(op, k, v);
  }
  return out;
}
