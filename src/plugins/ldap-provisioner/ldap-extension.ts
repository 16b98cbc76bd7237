// The LDAP provisioner's extension point: what plugins that require it (the LDAP service token
// provisioner) may use. Dependencies point one way: such a plugin imports this module and
// registers with the LDAP provisioner's exports; the LDAP provisioner never imports it.
import type { PreviousState, Target } from '../../core/provisioning/provisioner.ts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';

/** The provisioner type of an LDAP target (provisioning_target.plugin). */
export const LDAP_PROVISIONER_TYPE = 'ldap';

/** A provisioning failure an operator must act on (shown on the person's provisioning page). */
export class LdapProvisioningError extends Error {
  override name = 'LdapProvisioningError';
}

/** What an LDAP target is about to create an entry for: the target, the CO's targets, the person. */
export interface LdapEntryRequest {
  ldapTarget: Target<LdapConfig>;
  /** Every target of the CO (e.g. to find the ones that write into this LDAP target's entries). */
  targets: readonly Target[];
  data: ProvisioningData;
}

/** Values of one attribute that one target (`sourceTargetId`) wants in the person's entry. */
export interface LdapContribution {
  /** The target whose values these are: it reconciles them afterwards, never the LDAP target. */
  sourceTargetId: string;
  /** An attribute name, with options if any (e.g. `voPersonApplicationPassword;app-wiki`). */
  attribute: string;
  values: string[];
}

/**
 * A plugin's answer to "which attributes (and values) do you want in the entry this LDAP target
 * creates for this person". The LDAP target puts them into the add that creates the entry, so a
 * new entry takes one LDAP operation, and records which went in (`LdapEntryRecord.contributed`).
 * It never puts them into an existing entry, never over an attribute it owns, and never
 * reconciles them: each stays the source target's to maintain.
 */
export interface LdapAttributeContributor {
  attributesFor(request: LdapEntryRequest): LdapContribution[];
}

/** What the `ldap-provisioner` plugin exports to the plugins that require it. */
export interface LdapExtensionPoint {
  /** Adds a contributor, asked each time an LDAP target creates an entry; call it from `setup`. */
  registerAttributeContributor(contributor: LdapAttributeContributor): void;
}

declare module '../../core/plugins/plugin.ts' {
  interface PluginExports {
    'ldap-provisioner': LdapExtensionPoint;
  }
}

/** One source target's values that an LDAP target put into the entry it created. */
export type ContributedValues = { attribute: string; values: string[] };

/**
 * What an `ldap` target records per person (provisioning_state.detail). `entry` changes whenever
 * the target creates the entry anew, so a target writing into the entry knows its own record of
 * the entry's values may be stale. `seeded`: by source target id, the contributed values the add
 * that created the entry carried (the key keeps its stored name). `entryUuid`: the entry's
 * entryUUID (RFC 4530) when Tessera created or adopted it, so it is never mistaken for an entry
 * someone else put at the same DN.
 */
export type LdapEntryDetail = { entry?: string; seeded?: Record<string, ContributedValues>; adopted?: true; entryUuid?: string };

/** What an `ldap` target recorded of the person's entry, as another target reads it. */
export interface LdapEntryRecord {
  /** The entry's DN; null when the target holds no entry for the person. */
  dn: string | null;
  /** Changes whenever the target creates the entry anew; undefined before it recorded one. */
  generation: string | undefined;
  /** By source target id, what the add that created this entry carried for that target. */
  contributed: Record<string, ContributedValues>;
  /** Set when the target took this entry over (it existed, made by hand or by someone else) rather than adding it. */
  adopted?: true;
}

function isContributedValues(value: unknown): value is ContributedValues {
  return (
    typeof value === 'object' &&
    value !== null &&
    'attribute' in value &&
    typeof value.attribute === 'string' &&
    'values' in value &&
    Array.isArray(value.values) &&
    value.values.every((v) => typeof v === 'string')
  );
}

/** An `ldap` target's recorded detail, keeping only what has the shape LdapEntryDetail says. */
export function ldapEntryDetailOf(state: PreviousState | undefined): LdapEntryDetail {
  const entry = state?.detail.entry;
  const seeded: unknown = state?.detail.seeded;
  const contributed: Record<string, ContributedValues> = {};
  if (typeof seeded === 'object' && seeded !== null) {
    for (const [id, values] of Object.entries(seeded)) if (isContributedValues(values)) contributed[id] = { attribute: values.attribute, values: values.values };
  }
  const entryUuid = state?.detail.entryUuid;
  return {
    ...(typeof entry === 'string' ? { entry } : {}),
    ...(Object.keys(contributed).length > 0 ? { seeded: contributed } : {}),
    ...(state?.detail.adopted === true ? { adopted: true as const } : {}),
    ...(typeof entryUuid === 'string' ? { entryUuid } : {}),
  };
}

/** The person's entry as the `ldap` target's state (`input.stateOf(ldapTarget.id)`) records it. */
export function ldapEntryOf(state: PreviousState | undefined): LdapEntryRecord {
  const detail = ldapEntryDetailOf(state);
  return { dn: state && state.status !== 'removed' ? state.targetKey : null, generation: detail.entry, contributed: detail.seeded ?? {}, ...(detail.adopted ? { adopted: true as const } : {}) };
}

/**
 * The target as an `ldap` target, its settings (expanded with its server's: see `expandConfig`)
 * parsed with the LDAP settings schema; undefined when it is of another type. Throws LdapProvisioningError when its stored settings do not parse.
 */
export function asLdapTarget(target: Target): Target<LdapConfig> | undefined {
  if (target.provisionerType !== LDAP_PROVISIONER_TYPE) return undefined;
  if (typeof target.config.url !== 'string') {
    throw new LdapProvisioningError(`LDAP target "${target.description}" names an LDAP server that does not exist or is no longer assigned to this CO: nothing was sent anywhere. A platform admin must assign the server to the CO again, or a CO admin choose another server`);
  }
  // The worker runs many people against the same settings: they are parsed once (zod, DN syntax)
  // while they read the same, whatever object holds them (each chunk reads its targets anew).
  const text = JSON.stringify(target.config);
  const cached = parsedSettings.get(text);
  if (cached) return { ...target, config: cached };
  const parsed = ldapConfigSchema.safeParse(target.config);
  if (!parsed.success) throw new LdapProvisioningError(`the settings of LDAP target "${target.description}" are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  // A few targets' settings at a time; an edited target's old settings go when the list is full.
  if (parsedSettings.size >= PARSED_SETTINGS_KEPT) parsedSettings.delete(parsedSettings.keys().next().value!);
  const config = Object.freeze(parsed.data);
  parsedSettings.set(text, config);
  return { ...target, config };
}

/** How many parsed settings `asLdapTarget` keeps. */
const PARSED_SETTINGS_KEPT = 64;

/** Parsed (and frozen) settings by their JSON text (see asLdapTarget); the oldest first. */
const parsedSettings = new Map<string, LdapConfig>();

/** The `ldap` target `id` among the CO's targets (see asLdapTarget); undefined when there is none. */
export function ldapTargetOf(targets: readonly Target[], id: string): Target<LdapConfig> | undefined {
  const target = targets.find((t) => t.id === id);
  return target && asLdapTarget(target);
}
