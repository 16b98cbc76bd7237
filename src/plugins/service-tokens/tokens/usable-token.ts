import type { ExpressionBuilder } from 'kysely';
import { personMayUseService, type CoService } from '../../../core/co-services/co-service.service.ts';
import { listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { findCo } from '../../../core/cos/co.repository.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import type { PersonStatus } from '../../../core/people/person.table.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import { defaultSetting, settingsOfCo, type TokenSetting } from '../settings/token-setting.repository.ts';
import type { TokenDatabase, TokenDb } from '../token-context.ts';

/*
 * The usable-token rule, the one place it is written (DESIGN.md: tokens "stop working
 * automatically when the person is suspended, expires, leaves the service's group, or the service
 * is suspended"). A token is usable now when
 *   1. it is live: not revoked, and without an expiry or with one after now (an expiry at now
 *      exactly has passed) — `isLive`, and `liveToken` for SQL (the verification lookup,
 *      verification/candidate-lookup.ts, writes the same test in its SQL text); and
 *   2. its service accepts tokens from its person — `refusalOf` finds nothing: the CO is not
 *      suspended, tokens are enabled in the service's setting, the service is active, and the person may use the service by the
 *      COmanage rule (`personMayUseService`: active or grace period, group and visibility allow).
 * Undoing what broke 2 brings live tokens back: nothing about the tokens themselves changed.
 * Provisioners write usable tokens only; verification accepts usable tokens only; generation
 * refuses what 2 refuses; the person's page shows unusable live tokens as suspended.
 */

export type TokenState = 'active' | 'expired' | 'revoked' | 'suspended';

/** Rule 1: not revoked, not expired at `now`. */
export function isLive(token: { revokedAt: string | null; expiresAt: string | null }, now: Date): boolean {
  return token.revokedAt === null && (token.expiresAt === null || token.expiresAt > now.toISOString());
}

/** Rule 1 in SQL, for queries on `service_token` (unaliased): the same test as `isLive`. */
export function liveToken(eb: ExpressionBuilder<TokenDatabase, 'service_token'>, now: Date) {
  return eb.and([
    eb('service_token.revoked_at', 'is', null),
    eb.or([eb('service_token.expires_at', 'is', null), eb('service_token.expires_at', '>', now.toISOString())]),
  ]);
}

/** Why a service does not accept tokens (the error code generation throws), in the order checked. */
export type TokenRefusal = 'CO_SUSPENDED' | 'TOKENS_NOT_ENABLED' | 'SERVICE_NOT_ACTIVE' | 'PERSON_MAY_NOT_USE_SERVICE';

/**
 * Rule 2: why the service does not accept tokens from the person now, or undefined when it does.
 * `personMayUse` is the core's answer for this person and service (`personMayUseService`);
 * `coSuspended` whether the service's CO is suspended (nothing of it works until reactivated).
 */
export function refusalOf(setting: Pick<TokenSetting, 'enabled'>, service: Pick<CoService, 'status'>, personMayUse: boolean, coSuspended = false): TokenRefusal | undefined {
  if (coSuspended) return 'CO_SUSPENDED';
  if (!setting.enabled) return 'TOKENS_NOT_ENABLED';
  if (service.status !== 'active') return 'SERVICE_NOT_ACTIVE';
  if (!personMayUse) return 'PERSON_MAY_NOT_USE_SERVICE';
  return undefined;
}

/** The error a refusal is (422); the setting and service ones point at the form's serviceId. */
export function refusalError(refusal: TokenRefusal): AppError {
  return new AppError(SERVICE_TOKEN_ERRORS[refusal], refusal === 'PERSON_MAY_NOT_USE_SERVICE' || refusal === 'CO_SUSPENDED' ? {} : { field: 'serviceId' });
}

/** Is the CO suspended (or gone)? A suspended CO's tokens are usable again once it is reactivated. */
async function isCoSuspended(db: TokenDb, coId: string): Promise<boolean> {
  return (await findCo(db, coId))?.status !== 'active';
}

/** What the person's page shows for a token: revoked, expired, or live and (not) usable. */
export function tokenState(token: { revokedAt: string | null; expiresAt: string | null }, now: Date, accepted: boolean): TokenState {
  if (token.revokedAt !== null) return 'revoked';
  if (!isLive(token, now)) return 'expired';
  return accepted ? 'active' : 'suspended';
}

/** Rule 2 for one service and one person (verification, generation): the refusal, or undefined. */
export async function refusalFor(db: TokenDb, service: CoService, setting: TokenSetting, person: { id: string; status: PersonStatus }, now: Date): Promise<TokenRefusal | undefined> {
  const coSuspended = await isCoSuspended(db, service.coId);
  return refusalOf(setting, service, true, coSuspended) ?? refusalOf(setting, service, await personMayUseService(db, service, person, now));
}

/** Rule 2 for every service of one CO and one person, read once (see `acceptanceOf`). */
export interface TokenAcceptance {
  /** The CO's services, by id. */
  services: ReadonlyMap<string, CoService>;
  /** The service's setting (the default, tokens disabled, for a service never configured). */
  settingOf(serviceId: string): TokenSetting;
  /** Whether the service accepts tokens from the person now; false for a service not of the CO. */
  accepts(serviceId: string): boolean;
}

/**
 * Rule 2 for all the CO's services at once: the services and settings in two queries, and the
 * core's group and visibility rule asked once per distinct gate (status, group, visibility) instead
 * of once per service; services open to every member cost no query at all.
 */
export async function acceptanceOf(db: TokenDb, coId: string, person: { id: string; status: PersonStatus }, now: Date): Promise<TokenAcceptance> {
  const [serviceList, settings, coSuspended] = await Promise.all([listServicesOfCo(db, coId), settingsOfCo(db, coId), isCoSuspended(db, coId)]);
  const services = new Map(serviceList.map((s) => [s.id, s]));
  const settingOf = (serviceId: string) => settings.get(serviceId) ?? defaultSetting(serviceId);
  const byGate = new Map<string, boolean>();
  const accepted = new Set<string>();
  for (const service of serviceList) {
    const setting = settingOf(service.id);
    if (refusalOf(setting, service, true, coSuspended)) continue;
    const gate = `${service.coGroupId ?? ''}\u0000${service.visibility}`;
    let mayUse = byGate.get(gate);
    if (mayUse === undefined) {
      mayUse = await personMayUseService(db, service, person, now);
      byGate.set(gate, mayUse);
    }
    if (refusalOf(setting, service, mayUse) === undefined) accepted.add(service.id);
  }
  return { services, settingOf, accepts: (serviceId) => accepted.has(serviceId) };
}
