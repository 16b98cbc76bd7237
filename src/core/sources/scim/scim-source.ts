import type { Source } from '../source.repository.ts';
import type { ScimBase } from './scim-resource.ts';

/**
 * One SCIM source as a request sees it: the source (active, kind `scim`), where its resources are,
 * and the identifier type SRAM's eduPersonUniqueId is stored as (the OIDC sign-in's type,
 * TESSERA_OIDC_IDENTIFIER_TYPE, `oidcsub` by default), so a pushed person signs in with SRAM's OIDC.
 */
export interface ScimSource {
  source: Source;
  base: ScimBase;
  oidcType: string;
}

/**
 * The external id a resource is kept under when the client sends no externalId (Okta): Tessera's
 * own surrogate, never shown as externalId. Clients may not send ids of this shape.
 */
export const SURROGATE_PREFIX = 'scim-id:';

export const isSurrogate = (externalId: string): boolean => externalId.startsWith(SURROGATE_PREFIX);
