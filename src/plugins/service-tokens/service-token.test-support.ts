import type { Kysely } from 'kysely';
import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import type { CoreContext } from '../../core/context.ts';
import { createService, type CoService } from '../../core/co-services/co-service.service.ts';
import { newId } from '../../db/ids.ts';
import { DEFAULT_TOKEN_TYPE_ID } from './formats/token-types.ts';
import type { TokenSetting } from './settings/token-setting.repository.ts';
import { settingInput, type SettingInput } from './settings/token-setting.schema.ts';
import { updateSetting } from './settings/token-setting.service.ts';
import type { TokenContext, TokenDatabase } from './token-context.ts';

/** Test factories for the service-tokens plugin. */

/**
 * The context the plugin's services take, from a test app: its core context with its database
 * typed with the plugin's tables (what the plugin host gives the plugin).
 */
export function tokenContext(t: { ctx: CoreContext; db: Kysely<TokenDatabase> }): TokenContext {
  return { ...t.ctx, db: t.db };
}

export async function buildService(t: { ctx: CoreContext }, coId: string, overrides: Partial<Parameters<typeof createService>[3]> = {}): Promise<CoService> {
  const label = `svc${newId().slice(0, 6)}`;
  return createService(t.ctx, SYSTEM_ACTOR, coId, {
    name: `Service ${label}`,
    description: '',
    shortLabel: label,
    visibility: 'co_member',
    identifierType: 'uid',
    status: 'active',
    ...overrides,
  });
}

export async function enableTokens(t: { ctx: CoreContext; db: Kysely<TokenDatabase> }, coId: string, serviceId: string, overrides: Partial<SettingInput> = {}): Promise<TokenSetting> {
  const input = settingInput.parse({ enabled: true, tokenType: DEFAULT_TOKEN_TYPE_ID, storageScheme: 'SSHA512', maxLifetimeDays: null, maxTokensPerPerson: 3, ...overrides });
  return (await updateSetting(tokenContext(t), SYSTEM_ACTOR, coId, serviceId, input)).setting;
}
