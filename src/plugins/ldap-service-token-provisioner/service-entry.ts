// Service entries: one LDAP entry per (person, service) under the service's own subtree, holding
// only that service's token hashes in userPassword, so a client that binds (Apache
// mod_authnz_ldap, GitLab, PAM, …) and searches under its own subtree is opened by its own tokens
// only. What goes into the entry, computed from the registry: pure functions, no connection.
import { createHash } from 'node:crypto';
import { Attribute, Change } from 'ldapts';
import { formatName } from '../../core/people/person.repository.ts';
import type { PreviousState } from '../../core/provisioning/provisioner.ts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { buildDn, isWithinSubtree } from '../ldap-provisioner/ldap-dn.ts';
import { ldapMailValue } from '../ldap-provisioner/ldap-mail.ts';
import type { LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';

/** The attributes a service entry holds, all owned by the token target (objectClass apart). */
export const SERVICE_ENTRY_ATTRIBUTES = ['uid', 'cn', 'sn', 'mail', 'userPassword', 'isMemberOf'] as const;

/** The entry a person should have under the service's subtree. */
export interface ServiceEntry {
  dn: string;
  objectClasses: string[];
  /** Every owned attribute with its values; an empty list means absent. */
  attributes: Map<string, string[]>;
  /** Digest of the owned attributes' values: equal digests, nothing to write. */
  digest: string;
  /** Digest of the object classes (a change means the entry is made anew). */
  classes: string;
}

/** What a service-entry target records per person (provisioning_state.detail); no secret, no hash. */
export interface ServiceEntryDetail {
  mode: 'serviceEntry';
  digest?: string;
  classes?: string;
  tokens?: number;
}

/** The recorded service-entry detail, keeping only what has the shape ServiceEntryDetail says. */
export function serviceEntryDetailOf(state: PreviousState | undefined): ServiceEntryDetail {
  const d = state?.detail ?? {};
  return {
    mode: 'serviceEntry',
    ...(typeof d.digest === 'string' ? { digest: d.digest } : {}),
    ...(typeof d.classes === 'string' ? { classes: d.classes } : {}),
    ...(typeof d.tokens === 'number' ? { tokens: d.tokens } : {}),
  };
}

function unique(values: Iterable<string | null | undefined>, caseExact = false): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    if (v === null || v === undefined || v.trim() === '') continue;
    const key = caseExact ? v : v.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url');
}

/**
 * The service entry for the person: `<dnAttribute of the LDAP target>=<naming identifier>,<service
 * subtree>`, with uid (the person's active uid identifiers, and the naming value when the DN
 * attribute is uid), cn and sn (required by person; the naming value when the person has no
 * name), mail, userPassword (`hashes`: this service's usable tokens only) and, with
 * `groupNames`, isMemberOf (eduMember is then added to the classes).
 */
export function serviceEntryFor(
  ldap: Pick<LdapConfig, 'dnAttribute'>,
  config: Pick<LdapServiceTokenConfig, 'serviceBaseDn' | 'serviceEntryObjectClasses' | 'serviceEntryGroup'>,
  data: ProvisioningData,
  rdnValue: string,
  hashes: string[],
  groupNames: string[],
): ServiceEntry {
  if (!config.serviceBaseDn) throw new Error('a service-entry target without a service subtree');
  const { person } = data;
  const rdnIsUid = ldap.dnAttribute.toLowerCase() === 'uid';
  const uid = unique([...(rdnIsUid ? [rdnValue] : []), ...person.identifiers.filter((i) => i.type === 'uid' && i.status === 'active').map((i) => i.identifier)]);
  const cn = unique(person.names.map(formatName));
  const sn = unique(person.names.map((n) => n.family || n.given));
  const attributes = new Map<string, string[]>([
    ['uid', uid],
    ['cn', cn.length > 0 ? cn : [rdnValue]],
    ['sn', sn.length > 0 ? sn : [rdnValue]],
    ['mail', unique(person.emails.map((e) => ldapMailValue(e.mail)).filter((m): m is string => m !== undefined))],
    ['userPassword', unique(hashes, true)],
    ['isMemberOf', config.serviceEntryGroup ? unique(groupNames, true) : []],
  ]);
  // The naming value must stay in the naming attribute (cn, say, when the DN attribute is cn).
  if (!rdnIsUid) {
    const named = [...attributes.keys()].find((k) => k.toLowerCase() === ldap.dnAttribute.toLowerCase()) ?? ldap.dnAttribute;
    attributes.set(named, unique([rdnValue, ...(attributes.get(named) ?? [])]));
  }
  const objectClasses = unique(['top', ...config.serviceEntryObjectClasses, ...(config.serviceEntryGroup ? ['eduMember'] : [])]);
  return {
    dn: buildDn(ldap.dnAttribute, rdnValue, config.serviceBaseDn),
    objectClasses,
    attributes,
    digest: digestOf([...attributes]),
    classes: digestOf(objectClasses.map((c) => c.toLowerCase()).sort()),
  };
}

/** The LDAP add of a service entry: object classes and every non-empty attribute. */
export function addAttributesOf(entry: ServiceEntry): Record<string, string[]> {
  const out: Record<string, string[]> = { objectClass: entry.objectClasses };
  for (const [name, values] of entry.attributes) if (values.length > 0) out[name] = values;
  return out;
}

/**
 * The one modify that makes an existing service entry hold exactly `entry`'s values: a replace per
 * owned attribute (a replace with no values removes the attribute, and is no error when absent).
 */
export function replaceAllOf(entry: ServiceEntry): Change[] {
  return [...entry.attributes].map(([name, values]) => new Change({ operation: 'replace', modification: new Attribute({ type: name, values }) }));
}

/**
 * Whether the token target's service subtree lies inside one of the subtrees its LDAP server may
 * write (`LdapConfig.subtrees`, set by the platform per server): Tessera neither writes there nor
 * reads last binds there otherwise. Compared RDN by RDN after normalization (isWithinSubtree).
 */
export function serviceSubtreeAllowed(config: Pick<LdapServiceTokenConfig, 'serviceBaseDn'>, ldap: Pick<LdapConfig, 'subtrees'>): boolean {
  return config.serviceBaseDn !== undefined && ldap.subtrees.some((subtree) => isWithinSubtree(config.serviceBaseDn!, subtree));
}
