import { type CoService } from '../../../core/co-services/co-service.service.ts';
import { listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { findCo, lockCo } from '../../../core/cos/co.repository.ts';
import { findPerson, lockPerson } from '../../../core/people/person.repository.ts';
import { defaultSetting, enabledWarningSchedules, settingsOfServices } from '../settings/token-setting.repository.ts';
import type { TokenContext } from '../token-context.ts';
import { findTokenOfPerson, liveTokensExpiringBy } from '../tokens/service-token.repository.ts';
import { refusalFor } from '../tokens/usable-token.ts';
import { recordedAlready, recordWarnings, warningsRecordedFor } from './expiry-warning.repository.ts';
import { tokenExpiringNotice, tokenFacts } from './token-notices.tsx';
import { inTransaction } from '../../../db/transaction.ts';

const DAY_MS = 86_400_000;

/**
 * Sends each expiry warning once: for every live token, the most urgent threshold of its service's
 * schedule that has been crossed since the token was made. Thresholds passed while Tessera was down
 * are recorded without a message of their own, so nobody gets "30 days" and "7 days" at once; the
 * record is unique per (token, days), so restarts and concurrent sweeps never send twice. A warning
 * goes out only for a usable token (the usable-token rule) whose service has not turned the notice
 * off; otherwise it is recorded unsent. Settings, earlier warnings and services are read once per
 * sweep, not per token. Returns how many warnings were sent.
 */
export async function sweepExpiryWarnings(ctx: TokenContext): Promise<number> {
  const now = ctx.clock.now();
  const maxDays = Math.max(0, ...(await enabledWarningSchedules(ctx.db)).flat());
  if (maxDays === 0) return 0;
  const tokens = await liveTokensExpiringBy(ctx.db, now, new Date(now.getTime() + maxDays * DAY_MS));
  if (tokens.length === 0) return 0;
  const [settings, recorded] = await Promise.all([settingsOfServices(ctx.db, tokens.map((t) => t.serviceId)), warningsRecordedFor(ctx.db, tokens.map((t) => t.id))]);
  const servicesOfCo = new Map<string, Map<string, CoService>>();
  let sent = 0;
  for (const t of tokens) {
    const setting = settings.get(t.serviceId) ?? defaultSetting(t.serviceId);
    const expires = Date.parse(t.expiresAt!);
    const created = Date.parse(t.createdAt);
    const crossed = setting.expiryWarningDays.filter((d) => expires - d * DAY_MS <= now.getTime() && expires - d * DAY_MS > created);
    const done = recorded.get(t.id) ?? [];
    const fresh = crossed.filter((d) => !done.includes(d));
    if (fresh.length === 0) continue;
    const urgent = Math.min(...crossed);
    if (!servicesOfCo.has(t.coId)) servicesOfCo.set(t.coId, new Map((await listServicesOfCo(ctx.db, t.coId)).map((s) => [s.id, s])));
    const service = servicesOfCo.get(t.coId)!.get(t.serviceId);
    await inTransaction(ctx.db, async (trx) => {
      // Lock order (src/db/transaction.ts): keep the CO and the person; a token deleted with its
      // person or service meanwhile needs no warning.
      await lockCo(trx, t.coId, 'shared');
      if (!(await lockPerson(trx, t.coId, t.personId, 'keep')) || !(await findTokenOfPerson(trx, t.coId, t.personId, t.id))) return;
      await recordWarnings(trx, t.id, fresh, now.toISOString());
      if (!fresh.includes(urgent) || setting.noticesOff.includes('expiring') || !service) return;
      const person = await findPerson(trx, t.coId, t.personId);
      if (!person || (await refusalFor(trx, service, setting, person, now))) return;
      const co = (await findCo(trx, t.coId))!;
      const daysLeft = Math.max(1, Math.ceil((expires - now.getTime()) / DAY_MS));
      await ctx.notifier.notify(trx, tokenExpiringNotice(tokenFacts(ctx.notifier, co.name, service.name, t), daysLeft));
      sent++;
    }).catch((e) => {
      // Another sweep recorded this warning first: it sent it.
      if (!recordedAlready(e)) throw e;
    });
  }
  return sent;
}
