import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../../core/auth/actor.ts';
import { publishChange, type CoreContext } from '../../core/context.ts';
import { AppError, assertThat } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { recordHistory } from '../../core/history/history.service.ts';
import { findService, type CoService } from '../../core/co-services/co-service.service.ts';
import { DEFAULT_TOKEN_TYPE_ID, findTokenType, makeTokenType, storageRule, type TokenType, type TokenTypeDefinition } from './crypto/token-types.ts';
import { CUSTOM_TOKEN_TYPE_ID, customTokenType, customTokenTypeInput, type CustomTokenTypeInput } from './crypto/token-type.schema.ts';
import { isPasswordScheme, type PasswordScheme } from './crypto/password-schemes.ts';
import { SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import type { SettingInput } from './service-token.schema.ts';
import type { GenerationPolicy, ServiceTokenSettingTable, ServiceTokenTables } from './service-token.table.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';

export type TokenDb = Executor<CoreDatabase & ServiceTokenTables>;

export function tokenDb(db: Executor): TokenDb {
  return db as unknown as TokenDb;
}

export interface TokenSetting {
  serviceId: string;
  enabled: boolean;
  tokenType: string;
  /** The definition of the `custom` type, when the service uses one. */
  customType: CustomTokenTypeInput | null;
  storageScheme: PasswordScheme;
  maxLifetimeDays: number | null;
  maxTokensPerPerson: number;
  generation: GenerationPolicy;
  plaintextAcknowledged: boolean;
  /** Days before expiry at which the person is warned, most distant first. */
  expiryWarningDays: number[];
  /** Notices not sent for this service. */
  noticesOff: NoticeKind[];
  updatedAt: string | null;
}

export const NOTICE_KINDS = ['created', 'revoked', 'expiring'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

function parseDays(text: string): number[] {
  return [...new Set(text.split(',').map((d) => Number(d.trim())).filter((d) => Number.isInteger(d) && d > 0))].sort((a, b) => b - a);
}

export function defaultSetting(serviceId: string): TokenSetting {
  return {
    serviceId,
    enabled: false,
    tokenType: DEFAULT_TOKEN_TYPE_ID,
    customType: null,
    storageScheme: 'SSHA512',
    maxLifetimeDays: null,
    maxTokensPerPerson: 5,
    generation: 'self_and_admins',
    plaintextAcknowledged: false,
    expiryWarningDays: [30, 7, 1],
    noticesOff: [],
    updatedAt: null,
  };
}

export function toSetting(r: ServiceTokenSettingTable): TokenSetting {
  return {
    serviceId: r.service_id,
    enabled: r.enabled === 1,
    tokenType: r.token_type,
    customType: r.custom_type ? customTokenTypeInput.parse(JSON.parse(r.custom_type)) : null,
    storageScheme: r.storage_scheme as PasswordScheme,
    maxLifetimeDays: r.max_lifetime_days,
    maxTokensPerPerson: r.max_tokens_per_person,
    generation: r.generation,
    plaintextAcknowledged: r.plaintext_acknowledged === 1,
    expiryWarningDays: parseDays(r.expiry_warning_days),
    noticesOff: r.notices_off.split(',').filter((k): k is NoticeKind => (NOTICE_KINDS as readonly string[]).includes(k)),
    updatedAt: r.updated_at,
  };
}

/** The setting of a service of the CO; a service never configured has tokens disabled. */
export async function findSetting(db: Executor, coId: string, serviceId: string): Promise<TokenSetting> {
  const row = await tokenDb(db).selectFrom('service_token_setting').selectAll().where('co_id', '=', coId).where('service_id', '=', serviceId).executeTakeFirst();
  return row ? toSetting(row) : defaultSetting(serviceId);
}

export async function settingsOfCo(db: Executor, coId: string): Promise<Map<string, TokenSetting>> {
  const rows = await tokenDb(db).selectFrom('service_token_setting').selectAll().where('co_id', '=', coId).execute();
  return new Map(rows.map((r) => [r.service_id, toSetting(r)]));
}

/** The token type a setting names: a built-in one, or the service's custom definition. */
export function tokenTypeOf(setting: Pick<TokenSetting, 'tokenType' | 'customType'>): TokenType | undefined {
  if (setting.tokenType === CUSTOM_TOKEN_TYPE_ID) return setting.customType ? customTokenType(setting.customType) : undefined;
  return findTokenType(setting.tokenType);
}

/** The type a stored token was made with. */
export function tokenTypeOfRow(row: { token_type_def: string }): TokenType | undefined {
  try {
    return makeTokenType(JSON.parse(row.token_type_def) as TokenTypeDefinition);
  } catch {
    return undefined;
  }
}

export function definitionOf(type: TokenType): string {
  const { id, label, alphabet, length, groupSize, prefix, checksum, legacy } = type;
  return JSON.stringify({ id, label, alphabet, length, groupSize, prefix, checksum, legacy } satisfies TokenTypeDefinition);
}

/** Checks a type and scheme pair against the security floor; throws the matching error. */
export function assertStorageAllowed(type: TokenType | undefined, scheme: string, plaintextAcknowledged: boolean): void {
  if (!type) throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_TOKEN_TYPE, { field: 'tokenType' });
  if (!isPasswordScheme(scheme)) throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_STORAGE_SCHEME, { field: 'storageScheme' });
  const rule = storageRule(type, scheme);
  if (rule) throw new AppError(SERVICE_TOKEN_ERRORS[rule], { field: 'storageScheme' });
  if (scheme === 'PLAINTEXT' && !plaintextAcknowledged) {
    throw new AppError(SERVICE_TOKEN_ERRORS.PLAINTEXT_NOT_ACKNOWLEDGED, { field: 'acknowledgePlaintext' });
  }
}

export async function getServiceForSettings(db: Executor, coId: string, serviceId: string): Promise<CoService> {
  const service = await findService(db, coId, serviceId);
  if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  return service;
}

export async function updateSetting(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, input: SettingInput): Promise<TokenSetting> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const service = await getServiceForSettings(trx, coId, serviceId);
    const before = await findSetting(trx, coId, serviceId);
    const acknowledged = input.storageScheme === 'PLAINTEXT' && (input.acknowledgePlaintext || before.plaintextAcknowledged);
    if (input.tokenType === CUSTOM_TOKEN_TYPE_ID && !input.customType) {
      throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_TOKEN_TYPE, { field: 'customType.alphabet', message: 'Define the custom token type: its alphabet and length' });
    }
    assertStorageAllowed(tokenTypeOf({ tokenType: input.tokenType, customType: input.customType ?? null }), input.storageScheme, acknowledged);
    const now = ctx.clock.now().toISOString();
    const values = {
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
      updated_at: now,
    };
    const db = tokenDb(trx);
    if (before.updatedAt === null) {
      await db.insertInto('service_token_setting').values({ id: newId(), co_id: coId, service_id: serviceId, created_at: now, ...values }).execute();
    } else {
      await db.updateTable('service_token_setting').set(values).where('co_id', '=', coId).where('service_id', '=', serviceId).execute();
    }
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
    // Enabling or disabling tokens changes which tokens are usable, so provisioners must look again.
    await publishChange(ctx, trx, { kind: 'service', coId, serviceId, reason: 'token settings updated' });
    return findSetting(trx, coId, serviceId);
  });
}
