import { listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { publishChange } from '../../../core/context.ts';
import { lockCo } from '../../../core/cos/co.repository.ts';
import { recordHistory } from '../../../core/history/history.service.ts';
import { inTransaction } from '../../../db/transaction.ts';
import type { TokenContext } from '../token-context.ts';
import { cosWithExpiredUnhandled, expiredUnhandled, markExpiryHandled } from './service-token.repository.ts';

/** Tokens handled per CO and sweep at most. */
const PER_CO = 1000;

/**
 * Finds tokens that expired since the last sweep (up to 1000 per CO a run), records each expiry in
 * history and starts the provisioning that removes them (a token stops working at its expiry time
 * in Tessera itself: see `isLive`; the sweep makes directories follow). One transaction per CO,
 * which it locks first and alone (it reaches many people: see the lock order in
 * src/db/transaction.ts). Survives restarts: what was not handled is handled next time. Returns
 * how many tokens were handled.
 */
export async function sweepExpiredTokens(ctx: TokenContext): Promise<number> {
  const now = ctx.clock.now().toISOString();
  let handled = 0;
  for (const coId of await cosWithExpiredUnhandled(ctx.db, now)) {
    handled += await inTransaction(ctx.db, async (trx) => {
      if (!(await lockCo(trx, coId, 'exclusive'))) return 0;
      const tokens = await expiredUnhandled(trx, now, PER_CO, coId);
      if (tokens.length === 0) return 0;
      await markExpiryHandled(trx, tokens.map((t) => t.id), now);
      const serviceNames = new Map((await listServicesOfCo(trx, coId)).map((s) => [s.id, s.name]));
      const people = new Set<string>();
      for (const t of tokens) {
        if (t.revokedAt) continue;
        await recordHistory(trx, ctx.clock, { kind: 'system', label: 'system' }, {
          coId,
          personId: t.personId,
          serviceId: t.serviceId,
          action: 'SERVICE_TOKEN_EXPIRED',
          comment: `Token "${t.label}" for service ${serviceNames.get(t.serviceId) ?? t.serviceId} expired`,
        });
        people.add(t.personId);
      }
      for (const personId of [...people].sort()) await publishChange(ctx, trx, { kind: 'person', coId, personId, reason: 'service token expired' });
      return tokens.length;
    });
  }
  return handled;
}
