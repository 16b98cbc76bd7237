import type { SecretBox } from '../../provisioning/secret-box.ts';
import { invalidValue } from './scim-error.ts';

/** A `scim` source's settings (sealed in `source.settings_encrypted` like every source's). */
export interface ScimSettings {
  /**
   * Write `meta.location` relative to the base (`/Users/<id>`): SRAM requests `{base}{meta.location}`.
   * Off (absolute URIs, RFC 7643 §3.1) for every other client.
   */
  relativeLocation: boolean;
  /** Requests per minute the source may make (per server process); more answer 429. */
  requestsPerMinute: number;
}

export const DEFAULT_SCIM_SETTINGS: ScimSettings = { relativeLocation: false, requestsPerMinute: 12_000 };

/** Settings from their JSON (missing keys take the defaults); invalidValue for wrong types. */
export function scimSettingsOf(json: unknown): ScimSettings {
  const raw = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const relativeLocation = raw.relativeLocation ?? DEFAULT_SCIM_SETTINGS.relativeLocation;
  const requestsPerMinute = raw.requestsPerMinute ?? DEFAULT_SCIM_SETTINGS.requestsPerMinute;
  if (typeof relativeLocation !== 'boolean') throw invalidValue('relativeLocation must be true or false');
  if (typeof requestsPerMinute !== 'number' || !Number.isInteger(requestsPerMinute) || requestsPerMinute < 1 || requestsPerMinute > 1_000_000) throw invalidValue('requestsPerMinute must be an integer from 1 to 1000000');
  return { relativeLocation, requestsPerMinute };
}

/** The settings of a sealed source row (the kind's schema stored them with its defaults). */
export function openScimSettings(box: SecretBox, sealed: string): ScimSettings {
  return scimSettingsOf(JSON.parse(box.open(sealed)));
}
