import { parse } from 'scim2-parse-filter';
import { asObject, canonicalKeys, ENTERPRISE_USER_SCHEMA, SRAM_USER_SCHEMA, USER_SCHEMA } from './scim-user.input.ts';
import { invalidPath, invalidSyntax, invalidValue, ScimError } from './scim-error.ts';

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** One PATCH operation (RFC 7644 §3.5.2), its op lower-cased (Entra ID sends `Replace`, `Add`, `Remove`). */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string | undefined;
  value: unknown;
}

/**
 * A PatchOp body → its operations. Needs the PatchOp schema and a non-empty `Operations` array of at
 * most 1000; op names in any case. Errors: invalidSyntax (shape), invalidValue (op, path types).
 */
export function parsePatchBody(body: unknown): PatchOperation[] {
  const patch = canonicalKeys(asObject(body, '(body)'), ['schemas', 'Operations'], '');
  if (!Array.isArray(patch.schemas) || !patch.schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase())) throw invalidSyntax(`A PATCH body names the schema ${PATCH_SCHEMA}`);
  if (!Array.isArray(patch.Operations) || patch.Operations.length === 0) throw invalidSyntax('Operations must be a non-empty array');
  if (patch.Operations.length > 1000) throw invalidValue('At most 1000 operations per PATCH');
  return patch.Operations.map((raw, i) => {
    const op = canonicalKeys(asObject(raw, `Operations[${i}]`), ['op', 'path', 'value'], `Operations[${i}]`);
    const name = typeof op.op === 'string' ? op.op.toLowerCase() : '';
    if (name !== 'add' && name !== 'remove' && name !== 'replace') throw invalidValue(`Operations[${i}].op must be add, remove or replace`);
    if (op.path !== undefined && op.path !== null && typeof op.path !== 'string') throw invalidValue(`Operations[${i}].path must be a string`);
    const path = typeof op.path === 'string' && op.path.trim() !== '' ? op.path.trim() : undefined;
    if (path === undefined && name === 'remove') throw new ScimError(400, 'noTarget', `Operations[${i}]: remove needs a path`);
    if (path === undefined && (typeof op.value !== 'object' || op.value === null || Array.isArray(op.value))) throw invalidValue(`Operations[${i}]: without a path, value must be an object`);
    return { op: name, path, value: op.value };
  });
}

/** `attr[filter].sub` → its parts, or undefined when the path has no value filter. */
export function valuePath(path: string): { attr: string; filter: ReturnType<typeof parse>; sub: string | undefined } | undefined {
  const m = /^([^[\]]+)\[(.+)\](?:\.([A-Za-z0-9_$-]+))?$/.exec(path);
  if (!m) return undefined;
  try {
    return { attr: m[1]!.toLowerCase(), filter: parse(m[2]!), sub: m[3]?.toLowerCase() };
  } catch {
    throw invalidPath(`The path ${path} does not parse`);
  }
}

/** The value of an `x eq "v"` filter on attribute `x` (case-insensitive name), else undefined. */
export function eqValue(filter: ReturnType<typeof parse>, attribute: string): string | undefined {
  if (filter.op === 'eq' && 'attrPath' in filter && filter.attrPath.toLowerCase() === attribute && typeof filter.compValue === 'string') return filter.compValue;
  return undefined;
}

/** A path without its schema URN prefix (RFC 7644 §3.10), lower-cased. */
function bare(path: string): string {
  const lower = path.toLowerCase();
  for (const schema of [USER_SCHEMA, SRAM_USER_SCHEMA]) if (lower.startsWith(`${schema.toLowerCase()}:`)) return lower.slice(schema.length + 1);
  return lower;
}

const SIMPLE: Record<string, string> = { username: 'userName', externalid: 'externalId', active: 'active', displayname: 'displayName' };
const NAME_PARTS: Record<string, string> = { givenname: 'givenName', familyname: 'familyName', middlename: 'middleName', formatted: 'formatted' };

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Applies operations to a User resource as JSON (as `userResourceBody` writes it, which
 * `parseScimUser` then validates): the attributes Tessera keeps — userName, externalId, active,
 * displayName, name and its parts, emails (whole, or `emails[type eq "work"].value`), SRAM's
 * eduPersonUniqueId. A path-less op applies each key of its value as a path (Entra ID, Okta).
 * Enterprise-extension paths are accepted and ignored, as POST ignores them. Other paths: invalidPath.
 */
export function applyUserPatch(resource: Record<string, unknown>, ops: readonly PatchOperation[]): Record<string, unknown> {
  const res: Record<string, unknown> = structuredClone(resource);
  const apply = (op: PatchOperation['op'], path: string, value: unknown): void => {
    if (path.toLowerCase().startsWith(ENTERPRISE_USER_SCHEMA.toLowerCase())) return;
    if (path.toLowerCase() === SRAM_USER_SCHEMA.toLowerCase()) {
      for (const [k, v] of Object.entries(asObject(value, path))) apply(op, `${SRAM_USER_SCHEMA}:${k}`, v);
      return;
    }
    const vp = valuePath(path);
    if (vp) {
      if (vp.attr !== 'emails') throw invalidPath(`${path} is not a path Tessera writes`);
      const type = eqValue(vp.filter, 'type');
      const mail = eqValue(vp.filter, 'value');
      if (type === undefined && mail === undefined) throw invalidPath(`${path}: only emails[type eq "…"] or emails[value eq "…"]`);
      const emails = (Array.isArray(res.emails) ? res.emails : []).map((e) => asObject(e, 'emails'));
      const matches = (e: Record<string, unknown>): boolean =>
        (type === undefined || String(e.type ?? '').toLowerCase() === type.toLowerCase()) && (mail === undefined || String(e.value ?? '').toLowerCase() === mail.toLowerCase());
      if (op === 'remove') {
        res.emails = vp.sub === undefined ? emails.filter((e) => !matches(e)) : emails.map((e) => (matches(e) ? { ...e, [vp.sub!]: undefined } : e));
        return;
      }
      if (vp.sub !== undefined && !['value', 'type', 'primary'].includes(vp.sub)) throw invalidPath(`${path} is not a path Tessera writes`);
      const hit = emails.some(matches);
      // Entra ID replaces emails[type eq "work"].value on a user without a work email: that adds it.
      res.emails = hit
        ? emails.map((e) => (matches(e) ? (vp.sub === undefined ? { ...e, ...asObject(value, path) } : { ...e, [vp.sub!]: value }) : e))
        : [...emails, { type: type ?? 'work', ...(mail !== undefined ? { value: mail } : {}), ...(vp.sub === undefined ? asObject(value, path) : { [vp.sub]: value }) }];
      return;
    }
    const p = bare(path);
    if (SIMPLE[p]) {
      if (op === 'remove') delete res[SIMPLE[p]];
      else res[SIMPLE[p]] = value;
    } else if (p === 'name') {
      if (op === 'remove') delete res.name;
      else res.name = op === 'add' ? { ...asObject(res.name ?? {}, 'name'), ...asObject(value, 'name') } : value;
    } else if (p.startsWith('name.') && NAME_PARTS[p.slice(5)]) {
      const name = { ...asObject(res.name ?? {}, 'name') };
      if (op === 'remove') delete name[NAME_PARTS[p.slice(5)]!];
      else name[NAME_PARTS[p.slice(5)]!] = value;
      res.name = name;
    } else if (p === 'emails') {
      if (op === 'remove') delete res.emails;
      else res.emails = op === 'add' ? [...(Array.isArray(res.emails) ? res.emails : []), ...listOf(value)] : listOf(value);
    } else if (p === 'edupersonuniqueid') {
      const ext = { ...asObject(res[SRAM_USER_SCHEMA] ?? {}, SRAM_USER_SCHEMA) };
      if (op === 'remove') delete ext.eduPersonUniqueId;
      else ext.eduPersonUniqueId = value;
      res[SRAM_USER_SCHEMA] = ext;
    } else if (p === 'schemas' || p === 'id' || p === 'meta') {
      // Read-only or structural: Okta repeats the id in a path-less replace.
    } else {
      throw invalidPath(`${path} is not a path Tessera writes`);
    }
  };
  for (const { op, path, value } of ops) {
    if (path !== undefined) apply(op, path, value);
    else for (const [k, v] of Object.entries(asObject(value, 'value'))) apply(op, k, v);
  }
  return res;
}
