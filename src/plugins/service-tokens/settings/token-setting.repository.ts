import type { Updateable } from 'kysely';
import { newId } from '../../../db/ids.ts';
import { DEFAULT_TOKEN_TYPE_ID } from '../formats/token-types.ts';
import { customTokenTypeInput, type CustomTokenTypeInput } from '../formats/token-type.schema.ts';
import type { PasswordScheme } from '../hashing/password-schemes.ts';
import type { GenerationPolicy, ServiceTokenSettingTable } from '../service-token.table.ts';
import type { TokenDb } from '../token-context.ts';

export const NOTICE_KINDS = ['created', 'revoked', 'expiring'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** Whether people may have tokens for one CO Service, and of what kind. */
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
  /** Tokens unused (by either source of last use) for this many days are revoked, after a notice; null: never. */
  revokeUnusedAfterDays: number | null;
  /** null for a service never configured (see defaultSetting). */
  updatedAt: string | null;
}

/** The columns an administrator sets; the repository adds ids and creation time. */
export type SettingValues = Required<Omit<Updateable<ServiceTokenSettingTable>, 'id' | 'co_id' | 'service_id' | 'created_at'>>;

function parseDays(text: string): number[] {
  return [...new Set(text.split(',').map((d) => Number(d.trim())).filter((d) => Number.isInteger(d) && d > 0))].sort((a, b) => b - a);
}

/** What a service never configured has: tokens disabled, the default type, SSHA512. */
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
    revokeUnusedAfterDays: null,
    updatedAt: null,
  };
}

/** Maps a setting row to the domain setting (the custom type parsed, days and notices split). */
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
    revokeUnusedAfterDays: r.revoke_unused_after_days,
    updatedAt: r.updated_at,
  };
}

/** The setting of a service of the CO; a service never configured has tokens disabled. */
export async function findSetting(db: TokenDb, coId: string, serviceId: string): Promise<TokenSetting> {
  const row = await db.selectFrom('service_token_setting').selectAll().where('co_id', '=', coId).where('service_id', '=', serviceId).executeTakeFirst();
  return row ? toSetting(row) : defaultSetting(serviceId);
}

/** The configured settings of the CO, by service id (services never configured are absent). */
export async function settingsOfCo(db: TokenDb, coId: string): Promise<Map<string, TokenSetting>> {
  const rows = await db.selectFrom('service_token_setting').selectAll().where('co_id', '=', coId).execute();
  return new Map(rows.map((r) => [r.service_id, toSetting(r)]));
}

/** The configured settings of the given services (of any CO), by service id. */
export async function settingsOfServices(db: TokenDb, serviceIds: readonly string[]): Promise<Map<string, TokenSetting>> {
  if (serviceIds.length === 0) return new Map();
  const rows = await db.selectFrom('service_token_setting').selectAll().where('service_id', 'in', [...new Set(serviceIds)]).execute();
  return new Map(rows.map((r) => [r.service_id, toSetting(r)]));
}

/** The warning schedules ("30,7,1") of every service with tokens enabled. */
export async function enabledWarningSchedules(db: TokenDb): Promise<number[][]> {
  const rows = await db.selectFrom('service_token_setting').select('expiry_warning_days').where('enabled', '=', 1).execute();
  return rows.map((r) => parseDays(r.expiry_warning_days));
}

/** Writes the setting of a service: inserts it the first time (`exists` false), updates it after. */
export async function saveSetting(db: TokenDb, coId: string, serviceId: string, values: SettingValues, exists: boolean): Promise<void> {
  if (!exists) {
    await db.insertInto('service_token_setting').values({ id: newId(), co_id: coId, service_id: serviceId, created_at: values.updated_at, ...values }).execute();
  } else {
    await db.updateTable('service_token_setting').set(values).where('co_id', '=', coId).where('service_id', '=', serviceId).execute();
  }
}
