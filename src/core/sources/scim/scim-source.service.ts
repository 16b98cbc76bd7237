import type { Actor } from '../../auth/actor.ts';
import type { ProvisioningContext } from '../../provisioning/target.service.ts';
import type { Source } from '../source.repository.ts';
import { addSource } from '../source.service.ts';
import { scimBaseUrl } from './scim-auth.ts';
import type { ScimSettings } from './scim-settings.ts';
import { createScimToken } from './scim-token.service.ts';

/**
 * Adds a `scim` source to a CO and its first bearer token: returns the source, its base URL
 * (`<public URL>/scim/v2/<source id>`, what SRAM, Entra ID and Okta are given) and the token's
 * secret, shown this once. CO admins. Errors: those of addSource (FORBIDDEN, VALIDATION_FAILED,
 * SOURCE_NAME_TAKEN 409).
 */
export async function addScimSource(
  ctx: ProvisioningContext & { config: { publicUrl: string } },
  actor: Actor,
  coId: string,
  input: { name: string } & Partial<ScimSettings>,
): Promise<{ source: Source; baseUrl: string; secret: string }> {
  const { name, ...settings } = input;
  const source = await addSource(ctx, actor, coId, { kind: 'scim', name, settings });
  const { secret } = await createScimToken(ctx, actor, coId, source.id, 'first token');
  return { source, baseUrl: scimBaseUrl(ctx.config.publicUrl, source.id), secret };
}
