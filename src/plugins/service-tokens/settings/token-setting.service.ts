import { canReadCo, isCoAdmin, type Actor } from '../../../core/auth/actor.ts';
import { type CoService } from '../../../core/co-services/co-service.service.ts';
import { findService, listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { publishChange } from '../../../core/context.ts';
import { lockCo } from '../../../core/cos/co.repository.ts';
import { AppError, assertThat } from '../../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../../core/errors/error-codes.ts';
import { recordHistory } from '../../../core/history/history.service.ts';
import { findTokenType, storageRule, type TokenType } from '../formats/token-types.ts';
import { CUSTOM_TOKEN_TYPE_ID, customTokenType } from '../formats/token-type.schema.ts';
import { isPasswordScheme } from '../hashing/password-schemes.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { TokenContext, TokenDb } from '../token-context.ts';
import { countUnrevokedOfService } from '../tokens/service-token.repository.ts';
import type { SettingInput } from './token-setting.schema.ts';
import { defaultSetting, findSetting, NOTICE_KINDS, saveSetting, settingsOfCo, type TokenSetting } from './token-setting.repository.ts';
import { inTransaction } from '../../../db/transaction.ts';

/** The token type a setting names: a built-in one, or the service's custom definition. */
export function tokenTypeOf(setting: Pick<TokenSetting, 'tokenType' | 'customType'>): TokenType | undefined {
  if (setting.tokenType === CUSTOM_TOKEN_TYPE_ID) return setting.customType ? customTokenType(setting.customType) : undefined;
  return findTokenType(setting.tokenType);
}

/**
 * Checks a type and scheme pair against the security floor (`storageRule`: under 80 bits only with
 * argon2id; plaintext only for legacy types, and only once the admin accepted the warning); throws
 * the matching BAD_REQUEST error on the form field at fault.
 */
export function assertStorageAllowed(type: TokenType | undefined, scheme: string, plaintextAcknowledged: boolean): void {
  if (!type) throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_TOKEN_TYPE, { field: 'tokenType' });
  if (!isPasswordScheme(scheme)) throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_STORAGE_SCHEME, { field: 'storageScheme' });
  const rule = storageRule(type, scheme);
  if (rule) throw new AppError(SERVICE_TOKEN_ERRORS[rule], { field: 'storageScheme' });
  if (scheme === 'PLAINTEXT' && !plaintextAcknowledged) {
    throw new AppError(SERVICE_TOKEN_ERRORS.PLAINTEXT_NOT_ACKNOWLEDGED, { field: 'acknowledgePlaintext' });
  }
}

/** The CO Service whose settings are asked for; SERVICE_NOT_FOUND (404) when it is not of the CO. */
export async function getServiceForSettings(db: TokenDb, coId: string, serviceId: string): Promise<CoService> {
  const service = await findService(db, coId, serviceId);
  if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  return service;
}

/**
 * The token setting of one service, for anyone who reads the CO (`canReadCo`); SERVICE_NOT_FOUND
 * (404) when they do not, or when the service is not of the CO.
 */
export async function getSetting(ctx: TokenContext, actor: Actor, coId: string, serviceId: string): Promise<TokenSetting> {
  if (!canReadCo(actor, coId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  await getServiceForSettings(ctx.db, coId, serviceId);
  return findSetting(ctx.db, coId, serviceId);
}

/** The settings list of the CO (CO admins): every service with its setting, in the services' order. */
export async function listTokenSettings(ctx: TokenContext, actor: Actor, coId: string): Promise<Array<{ service: CoService; setting: TokenSetting }>> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const [services, settings] = await Promise.all([listServicesOfCo(ctx.db, coId), settingsOfCo(ctx.db, coId)]);
  return services.map((service) => ({ service, setting: settings.get(service.id) ?? defaultSetting(service.id) }));
}

/** One service's settings page (CO admins): the service, its setting and how many unrevoked tokens it has. */
export async function getTokenSettingPage(ctx: TokenContext, actor: Actor, coId: string, serviceId: string): Promise<{ service: CoService; setting: TokenSetting; unrevokedTokens: number }> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const service = await getServiceForSettings(ctx.db, coId, serviceId);
  const [setting, unrevokedTokens] = await Promise.all([findSetting(ctx.db, coId, serviceId), countUnrevokedOfService(ctx.db, coId, serviceId)]);
  return { service, setting, unrevokedTokens };
}

/**
 * Saves a service's token setting (CO admins): checks the custom type and the security floor,
 * records history, and publishes a change of the service, because enabling or disabling tokens
 * changes which tokens are usable and provisioners must look again. Returns the service and the
 * setting as saved.
 */
export async function updateSetting(ctx: TokenContext, actor: Actor, coId: string, serviceId: string, input: SettingInput): Promise<{ service: CoService; setting: TokenSetting }> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    // Changes which tokens are usable for everyone of the service: alone in the CO (src/db/transaction.ts).
    await lockCo(trx, coId, 'exclusive');
    const service = await getServiceForSettings(trx, coId, serviceId);
    const before = await findSetting(trx, coId, serviceId);
    const acknowledged = input.storageScheme === 'PLAINTEXT' && (input.acknowledgePlaintext || before.plaintextAcknowledged);
    if (input.tokenType === CUSTOM_TOKEN_TYPE_ID && !input.customType) {
      throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_TOKEN_TYPE, { field: 'customType.alphabet', message: 'Define the custom token type: its alphabet and length' });
    }
    assertStorageAllowed(tokenTypeOf({ tokenType: input.tokenType, customType: input.customType ?? null }), input.storageScheme, acknowledged);
    await saveSetting(
      trx,
      coId,
      serviceId,
      {
        enabled: input.enabled ? 1 : 0,
        token_type: input.tokenType,
        custom_type: input.tokenType === CUSTOM_TOKEN_TYPE_ID && input.customType ? JSON.stringify(input.customType) : null,
        storage_scheme: input.storageScheme,
        max_lifetime_days: input.maxLifetimeDays,
        max_tokens_per_person: input.maxTokensPerPerson,
        generation: input.generation,
        plaintext_acknowledged: acknowledged ? 1 : 0,
        expiry_warning_days: input.expiryWarningDays.join(','),
        notices_off: NOTICE_KINDS.filter((k) => !input.notices.includes(k)).join(','),
        revoke_unused_after_days: input.revokeUnusedAfterDays ?? null,
        updated_at: ctx.clock.now().toISOString(),
      },
      before.updatedAt !== null,
    );
    const changes: string[] = [];
    if (before.enabled !== input.enabled) changes.push(input.enabled ? 'enabled' : 'disabled');
    if (before.tokenType !== input.tokenType) changes.push(`type ${input.tokenType}`);
    if (before.storageScheme !== input.storageScheme) changes.push(`storage ${input.storageScheme}`);
    await recordHistory(trx, ctx.clock, actor, {
      coId,
      serviceId,
      action: 'SERVICE_TOKEN_SETTING_UPDATED',
      comment: `Service token settings for ${service.name} updated${changes.length ? ` (${changes.join(', ')})` : ''}`,
    });
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId, reason: 'token settings updated' });
    return { service, setting: await findSetting(trx, coId, serviceId) };
  });
}
