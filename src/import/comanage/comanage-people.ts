// People and what hangs on them (names, identifiers, emails), groups and memberships: the
// source's current rows in Tessera's terms, with the rows that break a Tessera rule set aside
// with their reason.
import { forbiddenCharacterIn, identifierKey, identifierValueIssue } from '../../core/text.ts';
import type { CoGroupMemberTable, CoGroupTable } from '../../core/groups/group.table.ts';
import type { CoPersonTable, EmailAddressTable, IdentifierTable, NameTable } from '../../core/people/person.table.ts';
import { emailInput } from '../../core/people/person.schema.ts';
import { groupKindOf, personStatusOf, suspendableOf } from './comanage-codes.ts';
import type { ComanageSnapshot } from './comanage-reader.ts';
import type { ImportMap, Item } from './import-sync.ts';

/** A source row not imported, and why. */
export interface Skipped {
  kind: string;
  cmId: number;
  reason: string;
}

type Without<T> = Omit<T, 'id'>;

/** 0/1 from a PostgreSQL boolean or a MySQL tinyint. */
export function flag(value: boolean | number | null): number {
  return value === true || value === 1 ? 1 : 0;
}

/** An ISO timestamp from a driver's Date or string (COmanage stores UTC). */
export function isoOf(value: Date | string | null): string | null {
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function badText(value: string | null): string | undefined {
  return value === null ? undefined : forbiddenCharacterIn(value);
}

/** People whose status Tessera knows. */
export function peopleItems(s: ComanageSnapshot, coId: string, skipped: Skipped[]): Array<Item<Without<CoPersonTable>>> {
  const out: Array<Item<Without<CoPersonTable>>> = [];
  for (const p of s.people) {
    const status = personStatusOf(p.status);
    if (!status) {
      skipped.push({ kind: 'person', cmId: p.id, reason: `unknown CO Person status "${p.status ?? ''}"` });
      continue;
    }
    const created = isoOf(p.created) ?? new Date(0).toISOString();
    out.push({ cmId: String(p.id), values: { co_id: coId, status, created_at: created, updated_at: isoOf(p.modified) ?? created } });
  }
  return out;
}

/** Names of imported people; a name without a given name (Tessera requires one) or with a control character is skipped. */
export function nameItems(s: ComanageSnapshot, coId: string, map: ImportMap, skipped: Skipped[]): Array<Item<Without<NameTable>>> {
  const out: Array<Item<Without<NameTable>>> = [];
  for (const n of s.names) {
    const personId = map.idOf('person', n.co_person_id);
    if (!personId) continue;
    const given = n.given?.trim();
    if (!given) {
      skipped.push({ kind: 'name', cmId: n.id, reason: 'no given name (Tessera requires one)' });
      continue;
    }
    const bad = [n.given, n.middle, n.family, n.suffix].map(badText).find(Boolean);
    if (bad) {
      skipped.push({ kind: 'name', cmId: n.id, reason: `contains a control character, ${bad}` });
      continue;
    }
    out.push({ cmId: String(n.id), values: { co_id: coId, person_id: personId, given: given.normalize('NFC'), middle: n.middle?.normalize('NFC') || null, family: n.family?.normalize('NFC') || null, suffix: n.suffix || null, type: n.type || 'official', primary_name: flag(n.primary_name) } });
  }
  return out;
}

/** Identifiers; of two with one identity (type and match key) in the CO only the first is kept. */
export function identifierItems(s: ComanageSnapshot, coId: string, map: ImportMap, skipped: Skipped[]): Array<Item<Without<IdentifierTable>>> {
  const out: Array<Item<Without<IdentifierTable>>> = [];
  const taken = new Map<string, number>();
  for (const i of s.identifiers) {
    const personId = map.idOf('person', i.co_person_id);
    if (!personId) continue;
    const value = i.identifier?.normalize('NFC');
    const type = i.type?.trim();
    const problem = !value || !type ? 'no value or no type' : (badText(value) ? `contains a control character, ${badText(value)}` : identifierValueIssue(type, value));
    if (problem || !value || !type) {
      skipped.push({ kind: 'identifier', cmId: i.id, reason: problem ?? 'no value or no type' });
      continue;
    }
    const matchKey = identifierKey(type, value);
    const clash = taken.get(`${type}\u0000${matchKey}`);
    if (clash !== undefined) {
      skipped.push({ kind: 'identifier', cmId: i.id, reason: `the ${type} "${value}" is also identifier ${clash} of this CO (Tessera keeps identifiers of a type unique per CO)` });
      continue;
    }
    taken.set(`${type}\u0000${matchKey}`, i.id);
    out.push({ cmId: String(i.id), values: { co_id: coId, person_id: personId, identifier: value, type, match_key: matchKey, login: flag(i.login), status: suspendableOf(i.status), created_at: isoOf(i.created) ?? new Date(0).toISOString() } });
  }
  return out;
}

/** Email addresses of imported people that Tessera's own address rule accepts. */
export function emailItems(s: ComanageSnapshot, coId: string, map: ImportMap, skipped: Skipped[]): Array<Item<Without<EmailAddressTable>>> {
  const out: Array<Item<Without<EmailAddressTable>>> = [];
  for (const e of s.emails) {
    const personId = map.idOf('person', e.co_person_id);
    if (!personId) continue;
    // Tessera's own rule for an address (the person form's and the API's): ASCII, as LDAP's mail (IA5String) needs.
    const parsed = emailInput.shape.mail.safeParse(e.mail ?? '');
    if (!parsed.success) {
      skipped.push({ kind: 'email', cmId: e.id, reason: `not an email address Tessera accepts: "${e.mail ?? ''}"` });
      continue;
    }
    const mail = parsed.data;
    out.push({ cmId: String(e.id), values: { co_id: coId, person_id: personId, mail, type: e.type || 'official', verified: flag(e.verified) } });
  }
  return out;
}

/** Standard groups (admins and members groups are Tessera's own, bound when the CO is made). */
export function groupItems(s: ComanageSnapshot, coId: string, skipped: Skipped[]): Array<Item<Without<CoGroupTable>>> {
  const out: Array<Item<Without<CoGroupTable>>> = [];
  const names = new Set<string>(['CO:admins', 'CO:members:active']);
  for (const g of s.groups) {
    const kind = groupKindOf(g.group_type, g.cou_id);
    if (kind === 'admins' || kind === 'members') continue;
    if (kind === 'nested') {
      skipped.push({ kind: 'group', cmId: g.id, reason: `nested group (type ${g.group_type}): COmanage computes it from COU groups` });
      continue;
    }
    if (names.has(g.name)) {
      skipped.push({ kind: 'group', cmId: g.id, reason: `another group of the CO is named "${g.name}"` });
      continue;
    }
    names.add(g.name);
    out.push({ cmId: String(g.id), values: { co_id: coId, name: g.name, description: g.description ?? '', status: suspendableOf(g.status), group_type: 'standard', created_at: isoOf(g.created) ?? new Date(0).toISOString() } });
  }
  return out;
}

/** Memberships of imported groups with their windows; the automatic members groups' are Tessera's to derive. */
export function membershipItems(s: ComanageSnapshot, coId: string, map: ImportMap, skipped: Skipped[]): Array<Item<Without<CoGroupMemberTable>>> {
  const out: Array<Item<Without<CoGroupMemberTable>>> = [];
  const membersGroups = new Set(s.groups.filter((g) => groupKindOf(g.group_type, g.cou_id) === 'members').map((g) => g.id));
  const seen = new Set<string>();
  for (const m of s.members) {
    if (membersGroups.has(m.co_group_id)) continue;
    const groupId = map.idOf('group', m.co_group_id);
    const personId = map.idOf('person', m.co_person_id);
    if (!groupId || !personId) continue;
    if (m.co_group_nesting_id !== null) {
      skipped.push({ kind: 'membership', cmId: m.id, reason: 'membership by group nesting (not supported by Tessera)' });
      continue;
    }
    if (seen.has(`${groupId}\u0000${personId}`)) {
      skipped.push({ kind: 'membership', cmId: m.id, reason: 'a second membership of the same person in the same group' });
      continue;
    }
    seen.add(`${groupId}\u0000${personId}`);
    const from = isoOf(m.valid_from);
    const through = isoOf(m.valid_through);
    if (from && through && from > through) {
      skipped.push({ kind: 'membership', cmId: m.id, reason: `its window ends (${through}) before it starts (${from})` });
      continue;
    }
    out.push({ cmId: String(m.id), values: { co_id: coId, group_id: groupId, person_id: personId, member: flag(m.member), owner: flag(m.owner), valid_from: from, valid_through: through, created_at: isoOf(m.created) ?? new Date(0).toISOString() } });
  }
  return out;
}
