import { invalidValue } from './scim-error.ts';

/** RFC 7644 §3.4.2 ListResponse schema. */
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
/** The most resources one page holds (ServiceProviderConfig `filter.maxResults`). */
export const MAX_PAGE_SIZE = 1000;

/**
 * Where a SCIM source's resources are: the absolute base (`<public URL>/scim/v2/<source id>`), and
 * whether `meta.location` is written relative to it (`/Users/<id>`): SRAM requests
 * `{base}{meta.location}`, so it needs relative locations; RFC 7643 §3.1 and other clients want
 * absolute URIs.
 */
export interface ScimBase {
  baseUrl: string;
  relativeLocation: boolean;
}

/** The `meta.location` of a resource (`Users` or `Groups`). */
export function locationOf(base: ScimBase, endpoint: 'Users' | 'Groups', id: string): string {
  return `${base.relativeLocation ? '' : base.baseUrl}/${endpoint}/${encodeURIComponent(id)}`;
}

/** Paging (RFC 7644 §3.4.2.4): startIndex is 1-based (values under 1 are 1); count 0…MAX_PAGE_SIZE. */
export interface Paging {
  startIndex: number;
  count: number;
}

function intParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value)) throw invalidValue(`${name} must be an integer`);
  return Number(value);
}

/** The paging of a list request's query. Errors: invalidValue for non-integers. */
export function pagingOf(query: Record<string, unknown>): Paging {
  const startIndex = Math.max(1, intParam(query.startIndex, 'startIndex') ?? 1);
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, intParam(query.count, 'count') ?? 100));
  return { startIndex, count };
}

/**
 * A ListResponse (RFC 7644 §3.4.2): totalResults over the whole filter, the page's startIndex and
 * itemsPerPage (the number returned, so an empty page never promises more: Okta and SRAM page
 * until a page is short).
 */
export function listResponse(total: number, paging: Paging, resources: unknown[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex: paging.startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** `attributes` / `excludedAttributes` of a request (RFC 7644 §3.4.2.5), lower-cased paths. */
export interface Projection {
  attributes?: string[];
  excluded?: string[];
}

const listParam = (value: unknown): string[] | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value.split(',').map((a) => a.trim().toLowerCase()).filter((a) => a !== '').map((a) => a.replace(/^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/, ''))
    : undefined;

export function projectionOf(query: Record<string, unknown>): Projection {
  return { attributes: listParam(query.attributes), excluded: listParam(query.excludedAttributes) };
}

/** Whether a projection leaves `attribute` (lower-case) out, so the caller need not load it (members). */
export function leavesOut(projection: Projection, attribute: string): boolean {
  if (projection.attributes) return !projection.attributes.some((a) => a === attribute || a.startsWith(`${attribute}.`));
  return projection.excluded?.includes(attribute) ?? false;
}

// Returned whatever is asked (RFC 7643 §7 "returned: always").
const ALWAYS = new Set(['id', 'schemas', 'meta']);

/**
 * Applies a projection to a resource: with `attributes`, only those (and their sub-attributes,
 * `name.givenName`) plus id, schemas and meta; with `excludedAttributes`, all but those.
 */
export function project(resource: Record<string, unknown>, projection: Projection): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const k = key.toLowerCase();
    if (ALWAYS.has(k)) {
      out[key] = value;
      continue;
    }
    if (projection.attributes) {
      if (projection.attributes.includes(k)) out[key] = value;
      else {
        const subs = projection.attributes.filter((a) => a.startsWith(`${k}.`) || a.startsWith(`${k}:`)).map((a) => a.slice(k.length + 1));
        if (subs.length > 0 && typeof value === 'object' && value !== null && !Array.isArray(value)) {
          out[key] = Object.fromEntries(Object.entries(value).filter(([sk]) => subs.includes(sk.toLowerCase())));
        } else if (subs.length > 0 && Array.isArray(value)) {
          out[key] = value.map((v: Record<string, unknown>) => Object.fromEntries(Object.entries(v).filter(([sk]) => subs.includes(sk.toLowerCase()))));
        }
      }
      continue;
    }
    if (!projection.excluded?.includes(k)) out[key] = value;
  }
  return out;
}
