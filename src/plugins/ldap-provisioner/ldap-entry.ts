// What a person's LDAP entry should hold, computed from the registry, and the one modify that
// turns the entry the directory holds into it. Pure functions: no connection, easy to test.
import { Attribute, Change } from 'ldapts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { formatName } from '../../core/people/person.repository.ts';
import { dnValueOctets, MAX_IDENTIFIER_DN_OCTETS } from '../../core/text.ts';
import { ATTRIBUTE_NEEDS_CLASS, type LdapConfig, type LdapPersonAttribute } from './ldap-config.schema.ts';
import { buildDn } from './ldap-dn.ts';
import { ldapMailValue } from './ldap-mail.ts';
import { LdapProvisioningError, type ContributedValues, type LdapContribution } from './ldap-extension.ts';

export interface DesiredEntry {
  dn: string;
  /** The value naming the entry (the person's identifier of the DN identifier type). */
  rdnValue: string;
  objectClasses: string[];
  /**
   * Every attribute this target owns, with the values it should hold; an empty list means the
   * attribute should be absent. Attributes not listed here are never touched.
   */
  attributes: Map<string, string[]>;
}

const STRUCTURAL_CLASSES = ['top', 'person', 'organizationalPerson', 'inetOrgPerson'];

/** Values compared without regard to case by their matching rule (all but isMemberOf here). */
const CASE_EXACT = new Set(['ismemberof']);

/** Drops empty values and duplicates (duplicates as the attribute's equality rule sees them). */
function uniqueValues(attribute: string, values: Iterable<string | null | undefined>): string[] {
  const exact = CASE_EXACT.has(attribute.toLowerCase());
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    if (v === null || v === undefined || v.trim() === '') continue;
    const key = exact ? v : v.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

/** The identifier that names the person's entry: active, of the configured type, login first. */
export function rdnValueOf(config: Pick<LdapConfig, 'dnIdentifierType'>, data: ProvisioningData): string | undefined {
  const candidates = data.person.identifiers.filter((i) => i.type === config.dnIdentifierType && i.status === 'active' && i.identifier.trim() !== '');
  return (candidates.find((i) => i.login) ?? candidates[0])?.identifier;
}

/** The DN the person's entry should have, or undefined when they lack the naming identifier. */
export function dnOf(config: LdapConfig, data: ProvisioningData): string | undefined {
  const value = rdnValueOf(config, data);
  return value === undefined ? undefined : buildDn(config.dnAttribute, value, config.baseDn);
}

function attributeValues(attribute: LdapPersonAttribute, data: ProvisioningData, config: Pick<LdapConfig, 'isMemberOfFormat'>): string[] {
  const { person } = data;
  switch (attribute) {
    case 'cn':
      return uniqueValues('cn', person.names.map(formatName));
    case 'sn':
      return uniqueValues('sn', person.names.map((n) => n.family || n.given));
    case 'givenName':
      return uniqueValues('givenName', person.names.map((n) => n.given));
    case 'displayName':
      // Single-valued in inetOrgPerson: the primary name only.
      return person.names.length > 0 ? uniqueValues('displayName', [person.displayName]) : [];
    case 'mail':
      return uniqueValues('mail', person.emails.map((e) => ldapMailValue(e.mail)));
    case 'uid':
      return uniqueValues('uid', person.identifiers.filter((i) => i.type === 'uid' && i.status === 'active').map((i) => i.identifier));
    case 'isMemberOf':
      // Empty for expired, suspended and locked people: provisioning data holds no groups for them.
      // Co-qualified (`<CO name>:<group name>`): groups of COs sharing a directory stay apart.
      return uniqueValues('isMemberOf', data.groups.map((g) => (config.isMemberOfFormat === 'co-qualified' ? `${data.co.name}:${g.name}` : g.name)));
    case 'voPersonStatus':
      return [person.status];
  }
}

/**
 * The entry the person should have in this target. Throws LdapProvisioningError when the person
 * cannot be named (no identifier of the DN type) or lacks what inetOrgPerson requires.
 */
export function desiredEntry(config: LdapConfig, data: ProvisioningData): DesiredEntry {
  const rdnValue = rdnValueOf(config, data);
  if (rdnValue === undefined) {
    throw new LdapProvisioningError(
      `${data.person.displayName} has no active identifier of type "${config.dnIdentifierType}", which names the LDAP entry (${config.dnAttribute}=…,${config.baseDn}); add one, or change the target's DN identifier type`,
    );
  }
  // Identifiers are bounded when entered; one of a type that is not (oidcsub) may still be too long.
  if (dnValueOctets(rdnValue) > MAX_IDENTIFIER_DN_OCTETS) {
    throw new LdapProvisioningError(
      `${data.person.displayName}'s identifier of type "${config.dnIdentifierType}" is too long to name an LDAP entry (${dnValueOctets(rdnValue)} octets once escaped, at most ${MAX_IDENTIFIER_DN_OCTETS}): give them a shorter one, or name entries by another type`,
    );
  }
  const objectClasses = [...STRUCTURAL_CLASSES];
  if (config.eduPerson) objectClasses.push('eduPerson');
  if (config.eduMember) objectClasses.push('eduMember');
  if (config.voPerson) objectClasses.push('voPerson');

  const attributes = new Map<string, string[]>();
  for (const attribute of config.attributes) {
    const needs = ATTRIBUTE_NEEDS_CLASS[attribute];
    if (needs && !config[needs]) continue;
    attributes.set(attribute, attributeValues(attribute, data, config));
  }
  // The naming value must be in the entry; the naming attribute is owned even when not chosen.
  const dnKey = [...attributes.keys()].find((a) => a.toLowerCase() === config.dnAttribute.toLowerCase()) ?? config.dnAttribute;
  attributes.set(dnKey, uniqueValues(dnKey, [rdnValue, ...(attributes.get(dnKey) ?? [])]));

  // person requires cn and sn: a person always has a name, but say so clearly if not.
  for (const required of ['cn', 'sn']) {
    const key = [...attributes.keys()].find((a) => a.toLowerCase() === required);
    if (key && attributes.get(key)!.length === 0) throw new LdapProvisioningError(`${data.person.displayName} has no name, and inetOrgPerson entries need ${required}`);
  }
  return { dn: buildDn(config.dnAttribute, rdnValue, config.baseDn), rdnValue, objectClasses, attributes };
}

/**
 * The attributes of an add: object classes, every owned attribute that has values, and the values
 * other targets contributed (never into an attribute this target owns, never an empty list);
 * `contributed` says, by source target, which went in.
 */
export function addAttributes(entry: DesiredEntry, contributions: readonly LdapContribution[] = []): { attributes: Record<string, string[]>; contributed: Record<string, ContributedValues> } {
  const out: Record<string, string[]> = { objectClass: entry.objectClasses };
  for (const [name, values] of entry.attributes) if (values.length > 0) out[name] = values;
  // person requires sn and cn even when the target is not set to write them; the values then come
  // from the naming value so the add succeeds, and later runs leave them alone (they are not owned).
  for (const required of ['cn', 'sn']) {
    if (!Object.keys(out).some((k) => k.toLowerCase() === required)) out[required] = [entry.rdnValue];
  }
  const owned = new Set(['objectclass', ...[...entry.attributes.keys()].map((a) => a.toLowerCase())]);
  const contributed: Record<string, ContributedValues> = {};
  for (const c of contributions) {
    if (c.values.length === 0 || owned.has(c.attribute.split(';')[0]!.toLowerCase())) continue;
    const key = Object.keys(out).find((k) => k.toLowerCase() === c.attribute.toLowerCase()) ?? c.attribute;
    out[key] = [...new Set([...(out[key] ?? []), ...c.values])];
    contributed[c.sourceTargetId] = { attribute: c.attribute, values: [...new Set(c.values)] };
  }
  return { attributes: out, contributed };
}

/** The attributes to read from an entry to compare it with the desired one. */
export function attributesToRead(entry: DesiredEntry): string[] {
  return ['objectClass', ...entry.attributes.keys()];
}

function sameValues(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((v, i) => v === sb[i]);
}

/**
 * The changes that make `current` hold exactly the desired values of the owned attributes:
 * missing object classes added (never removed: another target may need them), changed attributes
 * replaced, owned attributes that should be empty deleted. Empty when nothing differs.
 */
export function changesFor(entry: DesiredEntry, current: Map<string, string[]>): Change[] {
  const changes: Change[] = [];
  const classes = new Set((current.get('objectclass') ?? []).map((c) => c.toLowerCase()));
  const missing = entry.objectClasses.filter((c) => !classes.has(c.toLowerCase()));
  if (missing.length > 0) changes.push(new Change({ operation: 'add', modification: new Attribute({ type: 'objectClass', values: missing }) }));
  for (const [name, desired] of entry.attributes) {
    const have = current.get(name.toLowerCase()) ?? [];
    if (desired.length === 0) {
      if (have.length > 0) changes.push(new Change({ operation: 'delete', modification: new Attribute({ type: name, values: [] }) }));
    } else if (!sameValues(desired, have)) {
      changes.push(new Change({ operation: 'replace', modification: new Attribute({ type: name, values: desired }) }));
    }
  }
  return changes;
}
