import { listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { publishChange } from '../../../core/context.ts';
import { recordHistory } from '../../../core/history/history.service.ts';
import type { TokenContext } from '../token-context.ts';
import { expiredUnhandled, markExpiryHandled } from './service-token.repository.ts';

/**
 * Finds tokens that expired since the last sweep (up to 1000 a run), records each expiry in history
 * and starts the provisioning that removes them (a token stops working at its expiry time in
 * Tessera itself: see `isLive`; the sweep makes directories follow). Survives restarts: what was
 * not handled is handled next time. Returns how many tokens were handled.
 */
export async function sweepExpiredTokens(ctx: TokenContext): Promise<number> {
  const now = ctx.clock.now().toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    const tokens = await expiredUnhandled(trx, now, 1000);
    if (tokens.length === 0) return 0;
    await markExpiryHandled(trx, tokens.map((t) => t.id), now);
    const serviceNames = new Map<string, string>();
    for (const coId of new Set(tokens.filter((t) => !t.revokedAt).map((t) => t.coId))) {
      for (const s of await listServicesOfCo(trx, coId)) serviceNames.set(s.id, s.name);
    }
    const people = new Map<string, string>();
    for (const t of tokens) {
      if (t.revokedAt) continue;
      await recordHistory(trx, ctx.clock, { kind: 'system', label: 'system' }, {
        coId: t.coId,
        personId: t.personId,
        serviceId: t.serviceId,
        action: 'SERVICE_TOKEN_EXPIRED',
        comment: `Token "${t.label}" for service ${serviceNames.get(t.serviceId) ?? t.serviceId} expired`,
      });
      people.set(t.personId, t.coId);
    }
    for (const [personId, coId] of people) await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token expired' });
    return tokens.length;
  });
}
