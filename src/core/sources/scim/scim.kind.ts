import { z } from 'zod';
import type { SourceKind } from '../source-kind.ts';
import { DEFAULT_SCIM_SETTINGS } from './scim-settings.ts';

/**
 * The `scim` source kind: a SCIM 2.0 client (SRAM, Entra ID, Okta, …) pushes people and groups to
 * `/scim/v2/<source id>` (scim.routes.ts). It has no `read`: it cannot be run from Tessera, its
 * client sends every change. Its bearer tokens are kept apart (scim_token), hashed.
 */
export const sourceKind: SourceKind = {
  kind: 'scim',
  description: 'SCIM 2.0 endpoint that SRAM, Microsoft Entra ID, Okta and other SCIM clients push people and groups to',
  settings: z.object({
    relativeLocation: z.boolean().default(DEFAULT_SCIM_SETTINGS.relativeLocation),
    requestsPerMinute: z.number().int().min(1).max(1_000_000).default(DEFAULT_SCIM_SETTINGS.requestsPerMinute),
  }),
  describe: (settings) => `meta.location ${settings.relativeLocation ? 'relative (SRAM)' : 'absolute'}, at most ${String(settings.requestsPerMinute)} requests a minute`,
};
