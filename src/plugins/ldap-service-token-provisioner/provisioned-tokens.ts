// The service tokens of a person as provisioning data carries them, and the values a token target
// wants for them in an LDAP entry: the one place this plugin reads the service tokens plugin's data.
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { SERVICE_TOKENS_PLUGIN_ID, type ServiceTokenProvisioningData } from '../service-tokens/service-tokens.plugin.ts';
import type { LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';

/** One usable token of the person, as the service tokens plugin provisions it (a hash, never a secret). */
export type ProvisionedToken = ServiceTokenProvisioningData['tokens'][number];

function isProvisionedToken(value: unknown): value is ProvisionedToken {
  return (
    typeof value === 'object' &&
    value !== null &&
    'serviceId' in value &&
    typeof value.serviceId === 'string' &&
    'serviceShortLabel' in value &&
    typeof value.serviceShortLabel === 'string' &&
    'hash' in value &&
    typeof value.hash === 'string'
  );
}

function isServiceTokenData(value: unknown): value is ServiceTokenProvisioningData {
  return typeof value === 'object' && value !== null && 'tokens' in value && Array.isArray(value.tokens) && value.tokens.every(isProvisionedToken);
}

/**
 * The person's usable tokens from provisioning data (the service tokens plugin's part); empty
 * when there is no data (the person is gone) or the plugin contributed nothing. Throws when the
 * part is there but not of the shape ServiceTokenProvisioningData says: writing nothing would
 * withdraw every token from the directory.
 */
export function tokensOf(data: ProvisioningData | undefined): ProvisionedToken[] {
  const part = data?.plugins[SERVICE_TOKENS_PLUGIN_ID];
  if (part === undefined) return [];
  if (!isServiceTokenData(part)) throw new Error(`the "${SERVICE_TOKENS_PLUGIN_ID}" part of the provisioning data is not a list of tokens`);
  return part.tokens;
}

/** `userPassword`, or `voPersonApplicationPassword;app-<short label>` for per-service passwords. */
export function tokenAttributeName(attribute: Exclude<LdapServiceTokenConfig['attribute'], 'serviceEntries'>, shortLabel: string): string {
  return attribute === 'userPassword' ? 'userPassword' : `voPersonApplicationPassword;app-${shortLabel}`;
}

/** What a token target wants in the person's entry: its service's token hashes, and where. */
export interface WantedValues {
  /** Undefined when the person has no token of the service (the short label comes with them). */
  attribute: string | undefined;
  /** Distinct hashes, in token order. */
  values: string[];
}

/** The values of the target's service among the person's tokens, and the attribute they go to. */
export function wantedValues(config: Pick<LdapServiceTokenConfig, 'serviceId' | 'attribute'>, tokens: readonly ProvisionedToken[]): WantedValues {
  // Service entries hold the hashes in entries of their own: nothing goes into the person's entry.
  if (config.attribute === 'serviceEntries') return { attribute: undefined, values: [] };
  const mine = tokens.filter((t) => t.serviceId === config.serviceId);
  return { attribute: mine[0] ? tokenAttributeName(config.attribute, mine[0].serviceShortLabel) : undefined, values: [...new Set(mine.map((t) => t.hash))] };
}
