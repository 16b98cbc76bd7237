import { GROUP_SCHEMA, SRAM_GROUP_SCHEMA } from './scim-group.input.ts';
import { LIST_RESPONSE_SCHEMA, MAX_PAGE_SIZE, type ScimBase } from './scim-resource.ts';
import { SRAM_USER_SCHEMA, USER_SCHEMA } from './scim-user.input.ts';

/*
 * The discovery endpoints of RFC 7644 §4 for one source: what Tessera supports, stated as the
 * clients read it (Entra ID and Okta read ServiceProviderConfig; `filter.maxResults` is the page cap).
 */

/** The largest request body a SCIM endpoint takes, in bytes (a Group with ~20,000 members). */
export const MAX_SCIM_BODY_BYTES = 1024 * 1024;

/** GET /ServiceProviderConfig (RFC 7643 §5). */
export function serviceProviderConfig(base: ScimBase): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: MAX_SCIM_BODY_BYTES },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: 'A token of this source (Authorization: Bearer tss_…)', primary: true }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base.baseUrl}/ServiceProviderConfig` },
  };
}

const attr = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

const SCHEMAS: Array<{ id: string; name: string; description: string; attributes: unknown[] }> = [
  {
    id: USER_SCHEMA,
    name: 'User',
    description: 'A person of the CO',
    attributes: [
      attr('userName', { required: true, uniqueness: 'server' }),
      attr('externalId', { caseExact: true }),
      attr('name', { type: 'complex', subAttributes: [attr('givenName'), attr('familyName'), attr('middleName'), attr('formatted')] }),
      attr('displayName'),
      attr('active', { type: 'boolean' }),
      attr('emails', { type: 'complex', multiValued: true, subAttributes: [attr('value'), attr('type'), attr('primary', { type: 'boolean' })] }),
    ],
  },
  {
    id: GROUP_SCHEMA,
    name: 'Group',
    description: 'A group of the CO',
    attributes: [
      attr('displayName', { required: true }),
      attr('externalId', { caseExact: true }),
      attr('members', { type: 'complex', multiValued: true, subAttributes: [attr('value', { mutability: 'immutable' }), attr('$ref', { type: 'reference', referenceTypes: ['User'] }), attr('type')] }),
    ],
  },
  { id: SRAM_USER_SCHEMA, name: 'SRAM User', description: "SURF Research Access Management's user extension", attributes: [attr('eduPersonUniqueId', { caseExact: true })] },
  { id: SRAM_GROUP_SCHEMA, name: 'SRAM Group', description: "SURF Research Access Management's group extension", attributes: [attr('description'), attr('urn')] },
];

function resourceType(base: ScimBase, name: 'User' | 'Group'): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: name,
    name,
    endpoint: `/${name}s`,
    schema: name === 'User' ? USER_SCHEMA : GROUP_SCHEMA,
    schemaExtensions: [{ schema: name === 'User' ? SRAM_USER_SCHEMA : SRAM_GROUP_SCHEMA, required: false }],
    meta: { resourceType: 'ResourceType', location: `${base.baseUrl}/ResourceTypes/${name}` },
  };
}

/** GET /ResourceTypes, or one by name (undefined when unknown). */
export function resourceTypes(base: ScimBase, name?: string): Record<string, unknown> | undefined {
  const all = [resourceType(base, 'User'), resourceType(base, 'Group')];
  if (name !== undefined) return all.find((r) => r.id === name);
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all };
}

/** GET /Schemas, or one by its URN (undefined when unknown). */
export function schemas(base: ScimBase, id?: string): Record<string, unknown> | undefined {
  const all = SCHEMAS.map((s) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'], ...s, meta: { resourceType: 'Schema', location: `${base.baseUrl}/Schemas/${s.id}` } }));
  if (id !== undefined) return all.find((s) => s.id === id);
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all };
}
