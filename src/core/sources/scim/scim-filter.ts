import { parse, type Filter } from 'scim2-parse-filter';
import { invalidFilter } from './scim-error.ts';
import { SRAM_USER_SCHEMA, USER_SCHEMA } from './scim-user.input.ts';

/**
 * A supported User filter: a conjunction of equalities, each attribute at most once. The
 * repository turns it into SQL (never a scan of the CO in memory). `none` is set when the filter can
 * match nothing (the same attribute equal to two values).
 */
export interface UserFilter {
  id?: string;
  /** Compared case-insensitively (RFC 7643 §4.1.1: userName has caseExact false). */
  userName?: string;
  externalId?: string;
  /** One email row of the user with this value (case-insensitive) and, when given, this type. */
  email?: { value?: string; type?: string };
  eduPersonUniqueId?: string;
  none?: boolean;
}

/** A supported Group filter: a conjunction of `displayName eq`, `externalId eq`, `id eq`. */
export interface GroupFilter {
  id?: string;
  displayName?: string;
  externalId?: string;
  none?: boolean;
}

function parseOrThrow(text: string): Filter {
  if (text.length > 1000) throw invalidFilter('The filter is longer than 1000 characters');
  try {
    return parse(text);
  } catch (e) {
    throw invalidFilter(`The filter does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The terms of a conjunction (a single term is a conjunction of one); `or`, `not` and the rest throw. */
function conjunction(f: Filter): Filter[] {
  if (f.op === 'and' && 'filters' in f) return f.filters.flatMap(conjunction);
  return [f];
}

/** attrPath without the schema URN prefix RFC 7644 §3.10 allows, lower-cased for comparison. */
function pathOf(attrPath: string, ...schemas: string[]): string {
  const lower = attrPath.toLowerCase();
  for (const schema of schemas) if (lower.startsWith(`${schema.toLowerCase()}:`)) return lower.slice(schema.length + 1);
  return lower;
}

function stringEq(f: Filter, what: string): string {
  if (f.op !== 'eq' || !('compValue' in f) || typeof f.compValue !== 'string') throw invalidFilter(`Only "${what} eq \\"…\\"" is supported`);
  return f.compValue;
}

function setOnce<T extends { none?: boolean }, K extends Exclude<keyof T, 'none'>>(target: T, key: K, value: T[K], same: (a: T[K], b: T[K]) => boolean): void {
  if (target[key] !== undefined && !same(target[key], value)) target.none = true;
  else target[key] = value;
}

const exact = (a: unknown, b: unknown): boolean => a === b;
const folded = (a: string | undefined, b: string | undefined): boolean => a?.toLowerCase() === b?.toLowerCase();

/** `type eq "…"` / `value eq "…"` terms inside `emails[…]` into `email`. */
function emailTerms(out: UserFilter, terms: Filter[]): void {
  for (const term of terms) {
    if (!('attrPath' in term)) throw invalidFilter('Unsupported filter inside emails[…]');
    const sub = term.attrPath.toLowerCase();
    if (sub !== 'type' && sub !== 'value') throw invalidFilter(`emails.${term.attrPath} is not a supported filter attribute`);
    const value = stringEq(term, `emails.${sub}`);
    const email = (out.email ??= {});
    if (email[sub] !== undefined && email[sub]!.toLowerCase() !== value.toLowerCase()) out.none = true;
    email[sub] = value;
  }
}

/**
 * Parses a Users `filter` (RFC 7644 §3.4.2.2) with scim2-parse-filter and accepts only: `userName eq`,
 * `externalId eq`, `id eq`, `emails[type eq "work"].value eq` (also written
 * `emails[type eq "work" and value eq "…"]`), SRAM's `eduPersonUniqueId eq` (with or without its
 * schema URN), joined by `and`. Anything else throws 400 invalidFilter.
 */
export function parseUserFilter(text: string): UserFilter {
  const out: UserFilter = {};
  for (const term of conjunction(parseOrThrow(text))) {
    if (term.op === '[]' && 'valFilter' in term) {
      if (pathOf(term.attrPath, USER_SCHEMA) !== 'emails') throw invalidFilter(`${term.attrPath}[…] is not a supported filter`);
      emailTerms(out, conjunction(term.valFilter));
      continue;
    }
    if (!('attrPath' in term)) throw invalidFilter(`"${term.op}" is not supported; use eq terms joined by and`);
    const path = pathOf(term.attrPath, USER_SCHEMA, SRAM_USER_SCHEMA);
    if (path === 'username') setOnce(out, 'userName', stringEq(term, 'userName'), folded);
    else if (path === 'externalid') setOnce(out, 'externalId', stringEq(term, 'externalId'), exact);
    else if (path === 'id') setOnce(out, 'id', stringEq(term, 'id'), exact);
    else if (path === 'edupersonuniqueid') setOnce(out, 'eduPersonUniqueId', stringEq(term, 'eduPersonUniqueId'), exact);
    else if (path === 'emails.value' || path === 'emails.type') emailTerms(out, [{ ...term, attrPath: path.slice('emails.'.length) }]);
    else throw invalidFilter(`${term.attrPath} is not a supported filter attribute (userName, externalId, id, emails[type eq "work"].value, eduPersonUniqueId)`);
  }
  if (out.email !== undefined && out.email.value === undefined) throw invalidFilter('An emails filter needs value eq "…"');
  return out;
}

/**
 * Parses a Groups `filter`: `displayName eq`, `externalId eq`, `id eq`, joined by `and`; anything
 * else throws 400 invalidFilter.
 */
export function parseGroupFilter(text: string): GroupFilter {
  const out: GroupFilter = {};
  for (const term of conjunction(parseOrThrow(text))) {
    if (!('attrPath' in term) || term.op === '[]') throw invalidFilter(`"${term.op}" is not supported; use eq terms joined by and`);
    const path = pathOf(term.attrPath, 'urn:ietf:params:scim:schemas:core:2.0:Group');
    if (path === 'displayname') setOnce(out, 'displayName', stringEq(term, 'displayName'), exact);
    else if (path === 'externalid') setOnce(out, 'externalId', stringEq(term, 'externalId'), exact);
    else if (path === 'id') setOnce(out, 'id', stringEq(term, 'id'), exact);
    else throw invalidFilter(`${term.attrPath} is not a supported filter attribute (displayName, externalId, id)`);
  }
  return out;
}
