import { randomBytes } from 'node:crypto';
import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, personIdOf, type Actor } from '../../core/auth/actor.ts';
import { publishChange, type CoreContext } from '../../core/context.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { recordHistory } from '../../core/history/history.service.ts';
import { findPerson, type Person } from '../../core/people/person.repository.ts';
import { findService, listServicesOfCo, personMayUseService, type CoService } from '../../core/co-services/co-service.service.ts';
import { hashSecret } from './crypto/password-schemes.ts';
import { displayHint, generateToken } from './crypto/token-types.ts';
import { SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import { findCo } from '../../core/cos/co.service.ts';
import { tokenCreatedNotice, tokenExpiringNotice, tokenRevokedNotice } from './notices.tsx';
import type { GenerateInput } from './service-token.schema.ts';
import type { ServiceTokenTable } from './service-token.table.ts';
import { assertStorageAllowed, definitionOf, findSetting, settingsOfCo, tokenDb, tokenTypeOf, type TokenSetting } from './token-setting.service.ts';

export type TokenState = 'active' | 'expired' | 'revoked' | 'suspended';

export interface ServiceToken {
  id: string;
  personId: string;
  serviceId: string;
  label: string;
  tokenType: string;
  storageScheme: string;
  displayHint: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedAddress: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
  state: TokenState;
}

const DAY_MS = 86_400_000;

function isExpired(row: Pick<ServiceTokenTable, 'expires_at'>, now: Date): boolean {
  return row.expires_at !== null && row.expires_at <= now.toISOString();
}

function toToken(r: ServiceTokenTable, now: Date, usable: boolean): ServiceToken {
  const state: TokenState = r.revoked_at ? 'revoked' : isExpired(r, now) ? 'expired' : usable ? 'active' : 'suspended';
  return {
    id: r.id,
    personId: r.person_id,
    serviceId: r.service_id,
    label: r.label,
    tokenType: r.token_type,
    storageScheme: r.storage_scheme,
    displayHint: r.display_hint,
    createdBy: r.created_by_label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    lastUsedAddress: r.last_used_address,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by_label,
    revokedReason: r.revoked_reason,
    state,
  };
}

/**
 * Whether the person may hold working tokens for the service now: tokens enabled, service active,
 * person a member who may use the service. Undoing any of these brings unrevoked, unexpired
 * tokens back, because nothing about the tokens themselves changed.
 */
export async function serviceAcceptsTokensOf(db: Executor, service: CoService, setting: TokenSetting, person: Pick<Person, 'id' | 'status'>, now: Date): Promise<boolean> {
  return setting.enabled && (await personMayUseService(db, service, person, now));
}

/** Can the actor read the person's tokens? The person themselves, CO admins, API users of the CO. */
function assertMayRead(actor: Actor, coId: string, personId: string): void {
  const self = personIdOf(actor, coId) === personId;
  const reader = actor.kind === 'api' ? actor.platform || actor.coId === coId : isCoAdmin(actor, coId);
  if (!self && !reader) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
}

/** Can the actor generate or revoke for the person? Themselves (unless admins-only) or a CO admin. */
function assertMayAct(actor: Actor, coId: string, personId: string, setting?: TokenSetting): void {
  if (isCoAdmin(actor, coId)) return;
  if (personIdOf(actor, coId) !== personId) {
    assertMayRead(actor, coId, personId);
    throw new AppError(CORE_ERRORS.FORBIDDEN);
  }
  if (setting && setting.generation === 'admins_only') throw new AppError(SERVICE_TOKEN_ERRORS.GENERATION_ADMINS_ONLY);
}

async function getPersonIn(db: Executor, coId: string, personId: string): Promise<Person> {
  const person = await findPerson(db, coId, personId);
  if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  return person;
}

export interface PersonTokenService {
  service: CoService;
  setting: TokenSetting;
  /** Tokens may be generated (setting enabled, service active, person allowed). */
  available: boolean;
  /** The actor may generate here (policy and role). */
  mayGenerate: boolean;
  tokens: ServiceToken[];
}

/**
 * The person's Service Tokens page: every service that accepts tokens from them, and every service
 * they still hold tokens for (so those can be seen and revoked even after access ended).
 */
export async function listPersonTokenServices(ctx: CoreContext, actor: Actor, coId: string, personId: string): Promise<{ person: Person; services: PersonTokenService[] }> {
  assertMayRead(actor, coId, personId);
  const person = await getPersonIn(ctx.db, coId, personId);
  const now = ctx.clock.now();
  const [services, settings, rows] = await Promise.all([
    listServicesOfCo(ctx.db, coId),
    settingsOfCo(ctx.db, coId),
    tokenDb(ctx.db).selectFrom('service_token').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).orderBy('created_at', 'desc').execute(),
  ]);
  const admin = isCoAdmin(actor, coId);
  const out: PersonTokenService[] = [];
  for (const service of services) {
    const setting = settings.get(service.id);
    const mine = rows.filter((r) => r.service_id === service.id);
    if (!setting && mine.length === 0) continue;
    const effective = setting ?? (await findSetting(ctx.db, coId, service.id));
    const available = await serviceAcceptsTokensOf(ctx.db, service, effective, person, now);
    if (!available && mine.length === 0) continue;
    const mayGenerate = available && (admin || (personIdOf(actor, coId) === personId && effective.generation === 'self_and_admins'));
    out.push({ service, setting: effective, available, mayGenerate, tokens: mine.map((r) => toToken(r, now, available)) });
  }
  return { person, services: out };
}

export async function listPersonTokens(ctx: CoreContext, actor: Actor, coId: string, personId: string): Promise<ServiceToken[]> {
  const { services } = await listPersonTokenServices(ctx, actor, coId, personId);
  return services.flatMap((s) => s.tokens);
}

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
}

/**
 * Generates a token: checks the setting is enabled, the service active and in this CO, the actor
 * may act for the person, and the count is under the maximum (or a token is replaced in the same
 * step). The secret is hashed at once; only the hash (or, for the legacy plaintext scheme, the
 * value the admin accepted to store) reaches the database.
 */
export async function generateServiceToken(ctx: CoreContext, actor: Actor, coId: string, personId: string, input: GenerateInput): Promise<GeneratedToken> {
  assertMayRead(actor, coId, personId);
  if (!isId(input.serviceId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'serviceId' });
  // Hashing is slow by design for some schemes; do it before the transaction holds locks.
  const pre = await ctx.db.transaction().execute(async (trx) => {
    const service = await findService(trx, coId, input.serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'serviceId' });
    const setting = await findSetting(trx, coId, service.id);
    assertMayAct(actor, coId, personId, setting);
    if (!setting.enabled) throw new AppError(SERVICE_TOKEN_ERRORS.TOKENS_NOT_ENABLED, { field: 'serviceId' });
    if (service.status !== 'active') throw new AppError(SERVICE_TOKEN_ERRORS.SERVICE_NOT_ACTIVE, { field: 'serviceId' });
    return { service, setting };
  });
  const type = tokenTypeOf(pre.setting);
  if (!type) throw new AppError(SERVICE_TOKEN_ERRORS.UNKNOWN_TOKEN_TYPE);
  assertStorageAllowed(type, pre.setting.storageScheme, pre.setting.plaintextAcknowledged);
  const secret = generateToken(type);
  const hash = await hashSecret(secret, pre.setting.storageScheme);

  return ctx.db.transaction().execute(async (trx) => {
    const db = tokenDb(trx);
    const now = ctx.clock.now();
    // Re-read inside the transaction: the setting or the person may have changed meanwhile.
    const service = await findService(trx, coId, input.serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'serviceId' });
    const setting = await findSetting(trx, coId, service.id);
    if (!setting.enabled || setting.updatedAt !== pre.setting.updatedAt) {
      throw new AppError(SERVICE_TOKEN_ERRORS.TOKENS_NOT_ENABLED, { field: 'serviceId', message: 'The service’s token settings changed; try again' });
    }
    const person = await getPersonIn(trx, coId, personId);
    if (!(await personMayUseService(trx, service, person, now))) throw new AppError(SERVICE_TOKEN_ERRORS.PERSON_MAY_NOT_USE_SERVICE);
    const expiresAt = expiryFor(input, setting, now);

    const live = await db
      .selectFrom('service_token')
      .select(['id', 'label', 'expires_at'])
      .where('co_id', '=', coId)
      .where('person_id', '=', personId)
      .where('service_id', '=', service.id)
      .where('revoked_at', 'is', null)
      .execute();
    const counted = live.filter((r) => !isExpired(r, now));
    let replaced: { id: string; label: string } | undefined;
    if (input.replaceTokenId) {
      replaced = counted.find((r) => r.id === input.replaceTokenId);
      if (!replaced) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_NOT_FOUND, { field: 'replaceTokenId' });
    }
    if (counted.length - (replaced ? 1 : 0) >= setting.maxTokensPerPerson) {
      throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_LIMIT_REACHED, {
        field: 'replaceTokenId',
        message: `${person.displayName} has the maximum of ${setting.maxTokensPerPerson} token(s) for ${service.name}; choose one to replace, or revoke one first`,
      });
    }
    if (replaced) {
      await db
        .updateTable('service_token')
        .set({ revoked_at: now.toISOString(), revoked_by_label: actor.label, revoked_reason: 'replaced' })
        .where('id', '=', replaced.id)
        .execute();
    }
    const id = newId();
    try {
      await db
        .insertInto('service_token')
        .values({
          id,
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
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_ALREADY_SHOWN);
      throw e;
    }
    const onBehalf = personIdOf(actor, coId) !== personId;
    await recordHistory(trx, ctx.clock, actor, {
      coId,
      personId,
      serviceId: service.id,
      action: 'SERVICE_TOKEN_ASSIGNED',
      comment: `Token assigned for service ${service.name} (type ${type.label})${input.label ? `, label "${input.label}"` : ''}${replaced ? `, replacing "${replaced.label}"` : ''}${onBehalf ? `, by ${actor.label} on behalf of the person` : ''}`,
    });
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token assigned' });
    const row = await db.selectFrom('service_token').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    if (!setting.noticesOff.includes('created')) {
      const co = (await findCo(trx, coId))!;
      await ctx.notifier.notify(trx, tokenCreatedNotice(factsOf(ctx, co.name, service.name, row), onBehalf ? actor.label : undefined));
    }
    return { token: toToken(row, now, true), secret };
  });
}

/** Revokes tokens matching the filter (never already revoked ones); returns how many. */
async function revokeWhere(
  ctx: CoreContext,
  trx: Executor,
  actor: Actor,
  coId: string,
  filter: { personId?: string; serviceId?: string; tokenId?: string },
  reason: string,
): Promise<number> {
  const db = tokenDb(trx);
  let q = db.selectFrom('service_token').selectAll().where('co_id', '=', coId).where('revoked_at', 'is', null);
  if (filter.personId) q = q.where('person_id', '=', filter.personId);
  if (filter.serviceId) q = q.where('service_id', '=', filter.serviceId);
  if (filter.tokenId) q = q.where('id', '=', filter.tokenId);
  const rows = await q.execute();
  if (rows.length === 0) return 0;
  const now = ctx.clock.now().toISOString();
  await db
    .updateTable('service_token')
    .set({ revoked_at: now, revoked_by_label: actor.label, revoked_reason: reason || null })
    .where('id', 'in', rows.map((r) => r.id))
    .execute();
  const services = new Map((await listServicesOfCo(trx, coId)).map((s) => [s.id, s]));
  const co = (await findCo(trx, coId))!;
  const settings = await settingsOfCo(trx, coId);
  for (const r of rows) {
    if (!settings.get(r.service_id)?.noticesOff.includes('revoked')) {
      await ctx.notifier.notify(trx, tokenRevokedNotice(factsOf(ctx, co.name, services.get(r.service_id)?.name ?? 'a service', r), actor.label, reason));
    }
    await recordHistory(trx, ctx.clock, actor, {
      coId,
      personId: r.person_id,
      serviceId: r.service_id,
      action: 'SERVICE_TOKEN_REVOKED',
      comment: `Token "${r.label}" revoked for service ${services.get(r.service_id)?.name ?? r.service_id}${reason ? ` (${reason})` : ''}`,
    });
  }
  for (const personId of new Set(rows.map((r) => r.person_id))) {
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token revoked' });
  }
  return rows.length;
}

export async function revokeServiceToken(ctx: CoreContext, actor: Actor, coId: string, personId: string, tokenId: string, reason = ''): Promise<void> {
  assertMayRead(actor, coId, personId);
  await ctx.db.transaction().execute(async (trx) => {
    const row = isId(tokenId)
      ? await tokenDb(trx).selectFrom('service_token').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).where('id', '=', tokenId).executeTakeFirst()
      : undefined;
    if (!row) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_NOT_FOUND);
    // People may always revoke their own tokens, even where only admins may generate.
    assertMayAct(actor, coId, personId);
    if (row.revoked_at) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_ALREADY_REVOKED);
    await revokeWhere(ctx, trx, actor, coId, { tokenId, personId }, reason);
  });
}

/** Revokes every token of the person (optionally only for one service). */
export async function revokePersonTokens(ctx: CoreContext, actor: Actor, coId: string, personId: string, opts: { serviceId?: string; reason?: string } = {}): Promise<number> {
  assertMayRead(actor, coId, personId);
  assertMayAct(actor, coId, personId);
  return ctx.db.transaction().execute(async (trx) => {
    await getPersonIn(trx, coId, personId);
    return revokeWhere(ctx, trx, actor, coId, { personId, ...(opts.serviceId ? { serviceId: opts.serviceId } : {}) }, opts.reason ?? '');
  });
}

/** Revokes every token of a service, for everyone (CO admins). */
export async function revokeServiceTokens(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, reason = ''): Promise<number> {
  if (!isCoAdmin(actor, coId)) throw new AppError(CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await findService(trx, coId, serviceId))) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    return revokeWhere(ctx, trx, actor, coId, { serviceId }, reason);
  });
}

function factsOf(ctx: CoreContext, coName: string, serviceName: string, r: ServiceTokenTable) {
  return { coId: r.co_id, coName, personId: r.person_id, serviceName, label: r.label, displayHint: r.display_hint, expiresAt: r.expires_at, publicUrl: ctx.notifier.publicUrl };
}

export interface UsableToken {
  id: string;
  serviceId: string;
  serviceShortLabel: string;
  hash: string;
  storageScheme: string;
  expiresAt: string | null;
}

/**
 * The person's usable tokens now: not revoked, not expired, and the service accepts tokens from
 * them. This is what provisioners write and what verification accepts.
 */
export async function usableTokensOf(db: Executor, coId: string, person: Pick<Person, 'id' | 'status'>, now: Date): Promise<UsableToken[]> {
  const rows = await tokenDb(db)
    .selectFrom('service_token')
    .selectAll()
    .where('co_id', '=', coId)
    .where('person_id', '=', person.id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now.toISOString())]))
    .orderBy('created_at')
    .execute();
  if (rows.length === 0) return [];
  const settings = await settingsOfCo(db, coId);
  const out: UsableToken[] = [];
  const accepts = new Map<string, boolean>();
  for (const r of rows) {
    const service = await findService(db, coId, r.service_id);
    const setting = settings.get(r.service_id);
    if (!service || !setting) continue;
    if (!accepts.has(service.id)) accepts.set(service.id, await serviceAcceptsTokensOf(db, service, setting, person, now));
    if (!accepts.get(service.id)) continue;
    out.push({ id: r.id, serviceId: r.service_id, serviceShortLabel: service.shortLabel, hash: r.hash, storageScheme: r.storage_scheme, expiresAt: r.expires_at });
  }
  return out;
}

/**
 * Finds tokens that expired since the last sweep, records each expiry in history and starts the
 * provisioning that removes them (a token stops working at its expiry time in Tessera itself; the
 * sweep makes directories follow). Survives restarts: what was not handled is handled next time.
 */
export async function sweepExpiredTokens(ctx: CoreContext): Promise<number> {
  const now = ctx.clock.now().toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    const db = tokenDb(trx);
    const rows = await db
      .selectFrom('service_token')
      .selectAll()
      .where('expiry_handled_at', 'is', null)
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(1000)
      .execute();
    if (rows.length === 0) return 0;
    await db.updateTable('service_token').set({ expiry_handled_at: now }).where('id', 'in', rows.map((r) => r.id)).execute();
    const people = new Map<string, string>();
    for (const r of rows) {
      if (!r.revoked_at) {
        const service = await findService(trx, r.co_id, r.service_id);
        await recordHistory(trx, ctx.clock, { kind: 'system', label: 'system' }, {
          coId: r.co_id,
          personId: r.person_id,
          serviceId: r.service_id,
          action: 'SERVICE_TOKEN_EXPIRED',
          comment: `Token "${r.label}" for service ${service?.name ?? r.service_id} expired`,
        });
        people.set(r.person_id, r.co_id);
      }
    }
    for (const [personId, coId] of people) await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token expired' });
    return rows.length;
  });
}

const DAY_MS_WARN = 86_400_000;

/**
 * Sends each expiry warning once: for every live token, the most urgent threshold of its service's
 * schedule that has been crossed since the token was made. Thresholds passed while Tessera was down
 * are recorded without a message of their own, so nobody gets "30 days" and "7 days" at once; the
 * record is unique per (token, days), so restarts and concurrent sweeps never send twice.
 */
export async function sweepExpiryWarnings(ctx: CoreContext): Promise<number> {
  const now = ctx.clock.now();
  const db = tokenDb(ctx.db);
  const settings = await db.selectFrom('service_token_setting').selectAll().where('enabled', '=', 1).execute();
  const maxDays = Math.max(0, ...settings.map((s) => Math.max(0, ...s.expiry_warning_days.split(',').map(Number).filter(Number.isFinite))));
  if (maxDays === 0) return 0;
  const rows = await db
    .selectFrom('service_token')
    .selectAll()
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .where('expires_at', '<=', new Date(now.getTime() + maxDays * DAY_MS_WARN).toISOString())
    .execute();
  let sent = 0;
  for (const r of rows) {
    const setting = await findSetting(ctx.db, r.co_id, r.service_id);
    const expires = Date.parse(r.expires_at!);
    const created = Date.parse(r.created_at);
    const crossed = setting.expiryWarningDays.filter((d) => expires - d * DAY_MS_WARN <= now.getTime() && expires - d * DAY_MS_WARN > created);
    if (crossed.length === 0) continue;
    const done = await db.selectFrom('service_token_warning').select('days').where('token_id', '=', r.id).execute();
    const fresh = crossed.filter((d) => !done.some((x) => x.days === d));
    if (fresh.length === 0) continue;
    const urgent = Math.min(...crossed);
    await ctx.db.transaction().execute(async (trx) => {
      const tdb = tokenDb(trx);
      for (const d of fresh) await tdb.insertInto('service_token_warning').values({ token_id: r.id, days: d, sent_at: now.toISOString() }).execute();
      const person = await trx.selectFrom('co_person').select('status').where('id', '=', r.person_id).executeTakeFirst();
      const service = await findService(trx, r.co_id, r.service_id);
      if (fresh.includes(urgent) && !setting.noticesOff.includes('expiring') && person && service && setting.enabled) {
        const co = (await findCo(trx, r.co_id))!;
        const daysLeft = Math.max(1, Math.ceil((expires - now.getTime()) / DAY_MS_WARN));
        await ctx.notifier.notify(trx, tokenExpiringNotice(factsOf(ctx, co.name, service.name, r), daysLeft));
        sent++;
      }
    }).catch((e) => {
      // Another sweep recorded this warning first: it sent it.
      if (!String((e as Error).message).match(/unique|constraint|duplicate/i)) throw e;
    });
  }
  return sent;
}
