import { isId } from '../../../db/ids.ts';
import { isCoAdmin, type Actor } from '../../../core/auth/actor.ts';
import { findService, listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { publishChange } from '../../../core/context.ts';
import { findCo, lockCo } from '../../../core/cos/co.repository.ts';
import { lockPerson } from '../../../core/people/person.repository.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../../core/errors/error-codes.ts';
import { recordHistory } from '../../../core/history/history.service.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import { tokenFacts, tokenRevokedNotice } from '../notices/token-notices.tsx';
import { settingsOfCo } from '../settings/token-setting.repository.ts';
import type { TokenContext, TokenDb } from '../token-context.ts';
import { findTokenOfPerson, markRevoked, unrevokedTokens } from './service-token.repository.ts';
import { assertMayAct, assertMayRead, getPersonIn } from './token-access.ts';
import { inTransaction } from '../../../db/transaction.ts';

/**
 * Revokes the unrevoked tokens of the CO matching the filter, inside the caller's transaction:
 * one history record and (unless turned off) one notice per token, one change per person so
 * provisioners withdraw them. Returns how many were revoked.
 */
async function revokeWhere(
  ctx: TokenContext,
  trx: TokenDb,
  actor: Actor,
  coId: string,
  filter: { personId?: string; serviceId?: string; tokenId?: string },
  reason: string,
): Promise<number> {
  const tokens = await unrevokedTokens(trx, coId, filter);
  if (tokens.length === 0) return 0;
  await markRevoked(trx, tokens.map((t) => t.id), { at: ctx.clock.now().toISOString(), by: actor.label, reason: reason || null });
  const [services, co, settings] = await Promise.all([listServicesOfCo(trx, coId), findCo(trx, coId), settingsOfCo(trx, coId)]);
  const serviceOf = new Map(services.map((s) => [s.id, s]));
  for (const t of tokens) {
    const service = serviceOf.get(t.serviceId);
    if (!settings.get(t.serviceId)?.noticesOff.includes('revoked')) {
      await ctx.notifier.notify(trx, tokenRevokedNotice(tokenFacts(ctx.notifier, co!.name, service?.name ?? 'a service', t), actor.label, reason));
    }
    await recordHistory(trx, ctx.clock, actor, {
      coId,
      personId: t.personId,
      serviceId: t.serviceId,
      action: 'SERVICE_TOKEN_REVOKED',
      comment: `Token "${t.label}" revoked for service ${service?.name ?? t.serviceId}${reason ? ` (${reason})` : ''}`,
    });
  }
  for (const personId of new Set(tokens.map((t) => t.personId))) {
    await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token revoked' });
  }
  return tokens.length;
}

/**
 * Revokes one token of the person. People may always revoke their own tokens, even where only
 * admins may generate. TOKEN_NOT_FOUND (404) for a token not of the person, TOKEN_ALREADY_REVOKED (409).
 */
export async function revokeServiceToken(ctx: TokenContext, actor: Actor, coId: string, personId: string, tokenId: string, reason = ''): Promise<void> {
  assertMayRead(actor, coId, personId);
  await inTransaction(ctx.db, async (trx) => {
    // Lock order (src/db/transaction.ts): the CO shared, then the person.
    await lockCo(trx, coId, 'shared');
    await lockPerson(trx, coId, personId, 'write');
    const token = isId(tokenId) ? await findTokenOfPerson(trx, coId, personId, tokenId) : undefined;
    if (!token) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_NOT_FOUND);
    assertMayAct(actor, coId, personId);
    if (token.revokedAt) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_ALREADY_REVOKED);
    await revokeWhere(ctx, trx, actor, coId, { tokenId, personId }, reason);
  });
}

/** Revokes every token of the person (optionally only for one service); returns how many. */
export async function revokePersonTokens(ctx: TokenContext, actor: Actor, coId: string, personId: string, opts: { serviceId?: string; reason?: string } = {}): Promise<number> {
  assertMayRead(actor, coId, personId);
  assertMayAct(actor, coId, personId);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    await lockPerson(trx, coId, personId, 'write');
    await getPersonIn(trx, coId, personId);
    return revokeWhere(ctx, trx, actor, coId, { personId, ...(opts.serviceId ? { serviceId: opts.serviceId } : {}) }, opts.reason ?? '');
  });
}

/** Revokes every token of a service, for everyone (CO admins); returns how many. */
export async function revokeServiceTokens(ctx: TokenContext, actor: Actor, coId: string, serviceId: string, reason = ''): Promise<number> {
  if (!isCoAdmin(actor, coId)) throw new AppError(CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    // Reaches everyone with a token for the service: alone in the CO.
    await lockCo(trx, coId, 'exclusive');
    if (!(await findService(trx, coId, serviceId))) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    return revokeWhere(ctx, trx, actor, coId, { serviceId }, reason);
  });
}
