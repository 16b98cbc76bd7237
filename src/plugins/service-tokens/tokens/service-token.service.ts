import { ldapUseOf } from '../last-use/external-use.ts';
import { randomBytes } from 'node:crypto';
import { isId, newId } from '../../../db/ids.ts';
import { isCoAdmin, personIdOf, type Actor } from '../../../core/auth/actor.ts';
import { type CoService } from '../../../core/co-services/co-service.service.ts';
import { findService } from '../../../core/co-services/co-service.repository.ts';
import { publishChange } from '../../../core/context.ts';
import { findCo, lockCo } from '../../../core/cos/co.repository.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../../core/errors/error-codes.ts';
import { recordHistory } from '../../../core/history/history.service.ts';
import { lockPerson, type Person } from '../../../core/people/person.repository.ts';
import { definitionOf, displayHint, generateToken } from '../formats/token-types.ts';
import { hashSecret } from '../hashing/password-schemes.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import { tokenCreatedNotice, tokenFacts } from '../notices/token-notices.tsx';
import { findSetting, type TokenSetting } from '../settings/token-setting.repository.ts';
import { assertStorageAllowed, tokenTypeOf } from '../settings/token-setting.service.ts';
import type { TokenContext } from '../token-context.ts';
import { assertMayAct, assertMayRead, getPersonIn } from './token-access.ts';
import type { GenerateInput } from './service-token.schema.ts';
import { insertToken, liveTokensOfPerson, markRevoked, tokensOfPerson, type StoredToken } from './service-token.repository.ts';
import { acceptanceOf, refusalError, refusalFor, refusalOf, tokenState, type TokenState } from './usable-token.ts';
import { inTransaction } from '../../../db/transaction.ts';

export type { TokenState } from './usable-token.ts';

const DAY_MS = 86_400_000;

/** A token as people and API clients see it: never its secret, nor its hash; with its state. */
export type ServiceToken = Omit<StoredToken, 'coId' | 'hash' | 'tokenTypeDef'> & {
  state: TokenState;
  /** The person's last bind at their LDAP service entry of this token's service (per person and service, not per token); null when none was seen. */
  lastUsedViaLdap: string | null;
};

/** The visible part of a stored token, with its state (see `tokenState`). */
function toServiceToken(t: StoredToken, state: TokenState, lastUsedViaLdap: string | null = null): ServiceToken {
  const { coId: _coId, hash: _hash, tokenTypeDef: _def, ...visible } = t;
  return { ...visible, state, lastUsedViaLdap };
}

export interface PersonTokenService {
  service: CoService;
  setting: TokenSetting;
  /** Tokens may be generated (setting enabled, service active, person allowed). */
  available: boolean;
  /** The actor may generate here (policy and role). */
  mayGenerate: boolean;
  /** The person's last bind at their LDAP service entry of this service (read periodically from the directory); null when none was seen. */
  lastUsedViaLdap: string | null;
  tokens: ServiceToken[];
}

/**
 * The person's Service Tokens page: every service that accepts tokens from them, and every service
 * they still hold tokens for (so those can be seen and revoked even after access ended), in the
 * services' order. Readers: the person, CO admins, API users of the CO (`assertMayRead`).
 */
export async function listPersonTokenServices(ctx: TokenContext, actor: Actor, coId: string, personId: string): Promise<{ person: Person; services: PersonTokenService[] }> {
  assertMayRead(actor, coId, personId);
  const person = await getPersonIn(ctx.db, coId, personId);
  const now = ctx.clock.now();
  const [acceptance, tokens, ldapUse] = await Promise.all([acceptanceOf(ctx.db, coId, person, now), tokensOfPerson(ctx.db, coId, personId), ldapUseOf(ctx.db, coId, personId)]);
  const admin = isCoAdmin(actor, coId);
  const self = personIdOf(actor, coId) === personId;
  const out: PersonTokenService[] = [];
  for (const service of acceptance.services.values()) {
    const mine = tokens.filter((t) => t.serviceId === service.id);
    const available = acceptance.accepts(service.id);
    if (!available && mine.length === 0) continue;
    const setting = acceptance.settingOf(service.id);
    const mayGenerate = available && (admin || (self && setting.generation === 'self_and_admins'));
    const viaLdap = ldapUse.get(service.id) ?? null;
    out.push({ service, setting, available, mayGenerate, lastUsedViaLdap: viaLdap, tokens: mine.map((t) => toServiceToken(t, tokenState(t, now, available), viaLdap)) });
  }
  return { person, services: out };
}

/** The person's tokens, every service together (API); same readers as `listPersonTokenServices`. */
export async function listPersonTokens(ctx: TokenContext, actor: Actor, coId: string, personId: string): Promise<ServiceToken[]> {
  const { services } = await listPersonTokenServices(ctx, actor, coId, personId);
  return services.flatMap((s) => s.tokens);
}

/**
 * When a new token expires (ISO time, or null for never): the date or lifetime asked for, else the
 * service's maximum lifetime. EXPIRY_IN_PAST / EXPIRY_BEYOND_MAXIMUM (400) on the field asked.
 */
function expiryFor(input: GenerateInput, setting: TokenSetting, now: Date): string | null {
  const max = setting.maxLifetimeDays ? new Date(now.getTime() + setting.maxLifetimeDays * DAY_MS) : null;
  let expires: Date | null = null;
  if (input.expiresAt) expires = new Date(input.expiresAt);
  else if (input.lifetimeDays) expires = new Date(now.getTime() + input.lifetimeDays * DAY_MS);
  else expires = max;
  if (expires && expires <= now) throw new AppError(SERVICE_TOKEN_ERRORS.EXPIRY_IN_PAST, { field: input.expiresAt ? 'expiresAt' : 'lifetimeDays' });
  if (expires && max && expires > max) {
    throw new AppError(SERVICE_TOKEN_ERRORS.EXPIRY_BEYOND_MAXIMUM, {
      field: input.expiresAt ? 'expiresAt' : 'lifetimeDays',
      message: `Tokens for this service last at most ${setting.maxLifetimeDays} days`,
    });
  }
  return expires ? expires.toISOString() : null;
}

export interface GeneratedToken {
  token: ServiceToken;
  /** The secret, returned once; it exists nowhere else after this response. */
  secret: string;
  /** The person and the service it was made for, as the shown-once page names them. */
  person: Person;
  service: CoService;
}

/**
 * Generates a token: checks the service is in this CO and accepts tokens from the person (the
 * usable-token rule's `refusalOf`), the actor may act for the person, and the count of live tokens
 * is under the maximum (or one is replaced in the same step). The secret is hashed at once; only
 * the hash (or, for the legacy plaintext scheme, the value the admin accepted to store) reaches the
 * database. The person is told by a notice unless the service turned that notice off.
 */
export async function generateServiceToken(ctx: TokenContext, actor: Actor, coId: string, personId: string, input: GenerateInput): Promise<GeneratedToken> {
  assertMayRead(actor, coId, personId);
  if (!isId(input.serviceId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'serviceId' });
  // Hashing is slow by design for some schemes; do it before the transaction holds locks.
  const pre = await inTransaction(ctx.db, async (trx) => {
    const service = await findService(trx, coId, input.serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'serviceId' });
    const setting = await findSetting(trx, coId, service.id);
    assertMayAct(actor, coId, personId, setting);
    const refusal = refusalOf(setting, service, true);
    if (refusal) throw refusalError(refusal);
    return { service, setting };
  });
  const type = tokenTypeOf(pre.setting);
  if (!type) throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_TOKEN_TYPE);
  assertStorageAllowed(type, pre.setting.storageScheme, pre.setting.plaintextAcknowledged);
  const secret = generateToken(type);
  const hash = await hashSecret(secret, pre.setting.storageScheme);

  return inTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now();
    // Lock order (src/db/transaction.ts): the CO shared, then the person. A person deleted meanwhile
    // is then not found (404) rather than a token written for nobody.
    await lockCo(trx, coId, 'shared');
    await lockPerson(trx, coId, personId, 'write');
    // Re-read inside the transaction: the setting or the person may have changed meanwhile.
    const service = await findService(trx, coId, input.serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'serviceId' });
    const setting = await findSetting(trx, coId, service.id);
    if (!setting.enabled || setting.updatedAt !== pre.setting.updatedAt) {
      throw new AppError(SERVICE_TOKEN_ERRORS.TOKENS_NOT_ENABLED, { field: 'serviceId', message: 'The service’s token settings changed; try again' });
    }
    const person = await getPersonIn(trx, coId, personId);
    const refusal = await refusalFor(trx, service, setting, person, now);
    if (refusal) throw refusalError(refusal);
    const expiresAt = expiryFor(input, setting, now);

    const live = await liveTokensOfPerson(trx, coId, personId, now, service.id);
    let replaced: StoredToken | undefined;
    if (input.replaceTokenId) {
      replaced = live.find((t) => t.id === input.replaceTokenId);
      if (!replaced) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_NOT_FOUND, { field: 'replaceTokenId' });
    }
    if (live.length - (replaced ? 1 : 0) >= setting.maxTokensPerPerson) {
      throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_LIMIT_REACHED, {
        field: 'replaceTokenId',
        message: `${person.displayName} has the maximum of ${setting.maxTokensPerPerson} token(s) for ${service.name}; choose one to replace, or revoke one first`,
      });
    }
    if (replaced) await markRevoked(trx, [replaced.id], { at: now.toISOString(), by: actor.label, reason: 'replaced' });
    const token = await insertToken(trx, {
      id: newId(),
      co_id: coId,
      person_id: personId,
      service_id: service.id,
      label: input.label,
      hash,
      token_type: type.id,
      token_type_def: definitionOf(type),
      storage_scheme: setting.storageScheme,
      display_hint: displayHint(type, secret),
      request_nonce: input.nonce ?? randomBytes(16).toString('base64url'),
      created_by_label: actor.label,
      created_by_person_id: personIdOf(actor, coId) ?? null,
      created_by_api_user_id: actor.kind === 'api' ? actor.apiUserId : null,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      last_used_at: null,
      last_used_address: null,
      revoked_at: null,
      revoked_by_label: null,
      revoked_reason: null,
      expiry_handled_at: null,
    });
    const onBehalf = personIdOf(actor, coId) !== personId;
    await recordHistory(trx, ctx.clock, actor, {
      coId,
      personId,
      serviceId: service.id,
      action: 'SERVICE_TOKEN_ASSIGNED',
      comment: `Token assigned for service ${service.name} (type ${type.label})${input.label ? `, label "${input.label}"` : ''}${replaced ? `, replacing "${replaced.label}"` : ''}${onBehalf ? `, by ${actor.label} on behalf of the person` : ''}`,
    });
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token assigned' });
    if (!setting.noticesOff.includes('created')) {
      const co = (await findCo(trx, coId))!;
      await ctx.notifier.notify(trx, tokenCreatedNotice(tokenFacts(ctx.notifier, co.name, service.name, token), onBehalf ? actor.label : undefined));
    }
    return { token: toServiceToken(token, tokenState(token, now, true)), secret, person, service };
  });
}
