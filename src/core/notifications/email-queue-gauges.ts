// The email queue as Prometheus gauges, read from the database at scrape time.
import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import type { GaugeSample } from '../http/metrics.ts';
import type { EmailState } from './notification.table.ts';

const EMAIL_STATES: EmailState[] = ['pending', 'sending', 'sent', 'failed'];

/**
 * `tessera_email_queue_depth` (emails waiting or being sent), `tessera_email_oldest_pending_age_seconds`
 * and `tessera_emails{state}`, from one grouped query over outbound_email.
 */
export async function emailQueueGauges(db: Executor, clock: Clock): Promise<GaugeSample[]> {
  const rows = await db
    .selectFrom('outbound_email')
    .select(['state', (eb) => eb.fn.countAll<string | number>().as('emails'), sql<string | null>`min(case when state <> 'sent' and state <> 'failed' then created_at end)`.as('oldest')])
    .groupBy('state')
    .execute();
  const byState = new Map(rows.map((r) => [r.state, Number(r.emails)]));
  const oldest = rows.map((r) => r.oldest).filter((o): o is string => o !== null).sort()[0];
  const waiting = [...byState].filter(([state]) => state !== 'sent' && state !== 'failed').reduce((sum, [, n]) => sum + n, 0);
  return [
    { name: 'tessera_email_queue_depth', help: 'Emails waiting to be sent or being sent', labels: {}, value: waiting },
    {
      name: 'tessera_email_oldest_pending_age_seconds',
      help: 'Age of the oldest email waiting to be sent (0 when none)',
      labels: {},
      value: oldest ? Math.max(0, Math.round((clock.now().getTime() - Date.parse(oldest)) / 1000)) : 0,
    },
    ...EMAIL_STATES.map((state) => ({ name: 'tessera_emails', help: 'Emails by state', labels: { state }, value: byState.get(state) ?? 0 })),
  ];
}
