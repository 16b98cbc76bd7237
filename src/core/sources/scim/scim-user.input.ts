import { invalidSyntax, invalidValue } from './scim-error.ts';

/** RFC 7643 §8.7.1 core User schema, the enterprise extension (§4.3) and SRAM's User extension. */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SRAM_USER_SCHEMA = 'urn:mace:surf.nl:sram:scim:extension:User';

/** A User as Tessera keeps it: what a SCIM client may set, after mapping and validation. */
export interface ScimUserData {
  /** Case-insensitively unique in the CO (kept as sent); becomes the person's `uid` identifier. */
  userName: string;
  /** The client's own id for the user (SRAM: `<uuid>@sram.surf.nl`); the source's external id. */
  externalId: string | undefined;
  /** false: the person is suspended (tokens stop); true: active. */
  active: boolean;
  givenName: string | undefined;
  familyName: string | undefined;
  middleName: string | undefined;
  displayName: string | undefined;
  emails: Array<{ value: string; type: string; primary: boolean }>;
  /** SRAM's eduPersonUniqueId: also the OIDC `sub` SRAM's proxy sends, so it becomes a login identifier. */
  eduPersonUniqueId: string | undefined;
}

// Core attributes Tessera accepts and ignores (RFC 7643 §4.1): a client may send them, nothing of
// them is kept. Any other attribute is an error (invalidSyntax), so a typo never passes silently.
const IGNORED = ['nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'password', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates'];
const KNOWN = ['schemas', 'id', 'meta', 'externalId', 'userName', 'name', 'displayName', 'active', 'emails', ENTERPRISE_USER_SCHEMA, SRAM_USER_SCHEMA, ...IGNORED];
const SRAM_KNOWN = ['eduPersonUniqueId', 'eduPersonScopedAffiliation', 'voPersonExternalAffiliation', 'voPersonExternalId', 'sramInactiveDays'];
const NAME_KNOWN = ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'];

/**
 * Attribute names are case-insensitive (RFC 7643 §2.1): the object's keys renamed to the spelling
 * in `known`; a key that matches none throws invalidSyntax naming it.
 */
export function canonicalKeys(value: Record<string, unknown>, known: readonly string[], where: string): Record<string, unknown> {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const canonical = byLower.get(key.toLowerCase());
    if (!canonical) throw invalidSyntax(`Unknown attribute "${key}"${where ? ` in ${where}` : ''}`);
    out[canonical] = v;
  }
  return out;
}

/** A JSON object, or invalidValue/invalidSyntax naming the attribute. */
export function asObject(value: unknown, attribute: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw attribute === '(body)' ? invalidSyntax('The body must be a JSON object') : invalidValue(`${attribute} must be an object`);
  return value as Record<string, unknown>;
}

/**
 * A string attribute. SRAM sends `""` for a value it has not got: `""` and null are absent
 * (undefined). Any other non-string is invalidValue. Values are trimmed and at most 1024 characters.
 */
export function optionalString(value: unknown, attribute: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidValue(`${attribute} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > 1024) throw invalidValue(`${attribute} is longer than 1024 characters`);
  return trimmed === '' ? undefined : trimmed;
}

/**
 * A boolean attribute. Entra ID sends `"active":"False"` as a string: "true"/"false" in any case
 * are accepted; anything else is invalidValue. Absent (undefined, null, "") gives `fallback`.
 */
export function booleanValue(value: unknown, attribute: string, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${attribute} must be a boolean`);
}

function emailsOf(value: unknown): ScimUserData['emails'] {
  if (value === undefined || value === null || value === '') return [];
  if (!Array.isArray(value)) throw invalidValue('emails must be an array');
  const emails: ScimUserData['emails'] = [];
  for (const [i, raw] of value.entries()) {
    const item = canonicalKeys(asObject(raw, `emails[${i}]`), ['value', 'type', 'primary', 'display'], `emails[${i}]`);
    const mail = optionalString(item.value, `emails[${i}].value`);
    if (mail === undefined) continue;
    if (!/^[^\s@]+@[^\s@]+$/.test(mail)) throw invalidValue(`emails[${i}].value is not an email address`);
    const type = optionalString(item.type, `emails[${i}].type`)?.toLowerCase() ?? 'work';
    if (!/^[a-z0-9-]{1,32}$/.test(type)) throw invalidValue(`emails[${i}].type must be a short word`);
    emails.push({ value: mail, type, primary: booleanValue(item.primary, `emails[${i}].primary`, false) });
  }
  return emails;
}

/**
 * A SCIM User body (POST or PUT) → ScimUserData. Attribute names are case-insensitive; `""` is
 * absent; unknown attributes are invalidSyntax; wrong types and a missing userName are invalidValue
 * (RFC 7644 §3.12). `active` defaults to true. Read-only attributes (id, meta) are ignored.
 */
export function parseScimUser(body: unknown): ScimUserData {
  const user = canonicalKeys(asObject(body, '(body)'), KNOWN, '');
  if (user.schemas !== undefined && !(Array.isArray(user.schemas) && user.schemas.every((s) => typeof s === 'string'))) throw invalidValue('schemas must be an array of strings');
  const userName = optionalString(user.userName, 'userName');
  if (userName === undefined) throw invalidValue('userName is required');
  if (userName.length > 256) throw invalidValue('userName is longer than 256 characters');
  const name = user.name === undefined || user.name === null || user.name === '' ? {} : canonicalKeys(asObject(user.name, 'name'), NAME_KNOWN, 'name');
  const sram = user[SRAM_USER_SCHEMA] === undefined || user[SRAM_USER_SCHEMA] === null ? {} : canonicalKeys(asObject(user[SRAM_USER_SCHEMA], SRAM_USER_SCHEMA), SRAM_KNOWN, SRAM_USER_SCHEMA);
  if (user[ENTERPRISE_USER_SCHEMA] !== undefined && user[ENTERPRISE_USER_SCHEMA] !== null) asObject(user[ENTERPRISE_USER_SCHEMA], ENTERPRISE_USER_SCHEMA);
  for (const key of ['formatted', 'honorificPrefix', 'honorificSuffix']) optionalString(name[key], `name.${key}`);
  for (const key of ['eduPersonScopedAffiliation', 'voPersonExternalAffiliation', 'voPersonExternalId']) {
    const v = sram[key];
    if (!(v === undefined || v === null || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))) throw invalidValue(`${SRAM_USER_SCHEMA}:${key} must be a string`);
  }
  return {
    userName,
    externalId: optionalString(user.externalId, 'externalId'),
    active: booleanValue(user.active, 'active', true),
    givenName: optionalString(name.givenName, 'name.givenName'),
    familyName: optionalString(name.familyName, 'name.familyName'),
    middleName: optionalString(name.middleName, 'name.middleName'),
    displayName: optionalString(user.displayName, 'displayName') ?? optionalString(name.formatted, 'name.formatted'),
    emails: emailsOf(user.emails),
    eduPersonUniqueId: optionalString(sram.eduPersonUniqueId, `${SRAM_USER_SCHEMA}:eduPersonUniqueId`),
  };
}
