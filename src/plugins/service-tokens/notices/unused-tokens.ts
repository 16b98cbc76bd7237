// The unused-token policy: a service may revoke tokens nobody used for N days
// (service_token_setting.revoke_unused_after_days). Last use is the latest of the token's creation,
// its last check through the verification API (per token) and the last use seen elsewhere for the
// person and service (an LDAP bind at their service entry: service_token_external_use). A notice
// goes out first; a token is revoked only once the notice is at least the warning period old.
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { findCo } from '../../../core/cos/co.repository.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import type { TokenContext } from '../token-context.ts';
import { liveTokensOfServices, type StoredToken } from '../tokens/service-token.repository.ts';
import { revokeServiceToken } from '../tokens/token-revocation.service.ts';
import { tokenFacts, tokenUnusedNotice } from './token-notices.tsx';

const DAY_MS = 86_400_000;

/** Days between the notice and the revocation: a week, or half the period when it is shorter than two weeks. */
export function unusedNoticeDays(revokeAfterDays: number): number {
  return Math.max(1, Math.min(7, Math.floor(revokeAfterDays / 2)));
}

/** The token's last use: the latest of creation, its verification-API use and the use seen elsewhere (ISO). */
export function lastUseOf(token: Pick<StoredToken, 'createdAt' | 'lastUsedAt'>, elsewhere: string | undefined): string {
  return [token.createdAt, token.lastUsedAt, elsewhere].filter((v): v is string => typeof v === 'string').reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

/**
 * One pass of the policy over every service that has it: sends the notice for tokens idle for
 * N − notice days (once per idle period: a use since then starts a new one), revokes tokens idle
 * for N days whose notice is at least the notice period old (reason "unused for N days"; the
 * revocation notice, history and provisioning follow as for any revocation). Returns what it did.
 */
export async function sweepUnusedTokens(ctx: TokenContext): Promise<{ noticed: number; revoked: number }> {
  const now = ctx.clock.now();
  const policies = await ctx.db
    .selectFrom('service_token_setting')
    .select(['co_id', 'service_id', 'revoke_unused_after_days'])
    .where('enabled', '=', 1)
    .where('revoke_unused_after_days', 'is not', null)
    .execute();
  let noticed = 0;
  let revoked = 0;
  for (const policy of policies) {
    const days = policy.revoke_unused_after_days!;
    const noticeDays = unusedNoticeDays(days);
    const tokens = await liveTokensOfServices(ctx.db, [policy.service_id], now);
    if (tokens.length === 0) continue;
    const [uses, notices] = await Promise.all([
      ctx.db.selectFrom('service_token_external_use').select(['person_id', 'last_used_at']).where('co_id', '=', policy.co_id).where('service_id', '=', policy.service_id).execute(),
      ctx.db.selectFrom('service_token_unused_notice').selectAll().where('token_id', 'in', tokens.map((t) => t.id)).execute(),
    ]);
    const elsewhere = new Map<string, string>();
    for (const u of uses) if (!elsewhere.has(u.person_id) || Date.parse(u.last_used_at) > Date.parse(elsewhere.get(u.person_id)!)) elsewhere.set(u.person_id, u.last_used_at);
    const noticeOf = new Map(notices.map((n) => [n.token_id, n]));
    let names: { co: string; service: string } | undefined;
    for (const token of tokens) {
      const lastUse = lastUseOf(token, elsewhere.get(token.personId));
      const idleMs = now.getTime() - Date.parse(lastUse);
      let notice = noticeOf.get(token.id);
      if (notice && notice.idle_since !== lastUse) {
        // Used since the notice: a new idle period starts.
        await ctx.db.deleteFrom('service_token_unused_notice').where('token_id', '=', token.id).execute();
        notice = undefined;
      }
      if (!notice) {
        if (idleMs < (days - noticeDays) * DAY_MS) continue;
        names ??= await namesOf(ctx, policy.co_id, policy.service_id);
        const revokeOn = new Date(Math.max(Date.parse(lastUse) + days * DAY_MS, now.getTime() + noticeDays * DAY_MS)).toISOString();
        await ctx.db.transaction().execute(async (trx) => {
          await trx.insertInto('service_token_unused_notice').values({ token_id: token.id, idle_since: lastUse, sent_at: now.toISOString() }).execute();
          await ctx.notifier.notify(trx, tokenUnusedNotice(tokenFacts(ctx.notifier, names!.co, names!.service, token), Math.floor(idleMs / DAY_MS), revokeOn));
        });
        noticed++;
        continue;
      }
      if (idleMs >= days * DAY_MS && now.getTime() - Date.parse(notice.sent_at) >= noticeDays * DAY_MS) {
        try {
          await revokeServiceToken(ctx, SYSTEM_ACTOR, token.coId, token.personId, token.id, `unused for ${days} days`);
          revoked++;
        } catch (error) {
          // Revoked by someone else meanwhile: nothing left to do.
          if (!(error instanceof AppError && error.code === 'TOKEN_ALREADY_REVOKED')) throw error;
        }
      }
    }
  }
  return { noticed, revoked };
}

async function namesOf(ctx: TokenContext, coId: string, serviceId: string): Promise<{ co: string; service: string }> {
  const [co, services] = await Promise.all([findCo(ctx.db, coId), listServicesOfCo(ctx.db, coId)]);
  return { co: co?.name ?? 'your CO', service: services.find((s) => s.id === serviceId)?.name ?? 'a service' };
}
