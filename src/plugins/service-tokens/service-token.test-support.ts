import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import type { CoreContext } from '../../core/context.ts';
import { createService, type CoService } from '../../core/co-services/co-service.service.ts';
import { newId } from '../../db/ids.ts';
import { DEFAULT_TOKEN_TYPE_ID } from './crypto/token-types.ts';
import { settingInput, type SettingInput } from './service-token.schema.ts';
import { updateSetting, type TokenSetting } from './token-setting.service.ts';

/** Test factories for the service-tokens plugin. */
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

export async function enableTokens(t: { ctx: CoreContext }, coId: string, serviceId: string, overrides: Partial<SettingInput> = {}): Promise<TokenSetting> {
  const input = settingInput.parse({ enabled: true, tokenType: DEFAULT_TOKEN_TYPE_ID, storageScheme: 'SSHA512', maxLifetimeDays: null, maxTokensPerPerson: 3, ...overrides });
  return updateSetting(t.ctx, SYSTEM_ACTOR, coId, serviceId, input);
}
