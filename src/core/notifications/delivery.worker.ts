import type { Db } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import { BackgroundJob } from '../jobs/background-job.ts';
import type { Logger } from '../logging/logger.ts';
import { PermanentMailError, type Mailer } from './mailer.ts';

const MAX_ATTEMPTS = 12;
const BASE_BACKOFF_S = 30;
const MAX_BACKOFF_S = 3600;
const LEASE_MS = 2 * 60_000;

/**
 * Sends queued emails. An SMTP server that is down delays them (retries with back-off) and never
 * loses them; a permanent refusal (5xx) or too many attempts leaves them `failed`, visible to CO
 * admins, who can retry. Claiming is an UPDATE … WHERE state = 'pending', so two workers never
 * send the same email at once.
 */
export class EmailDelivery {
  private readonly job: BackgroundJob;

  /** `pollMs`: how often to look for due emails, in ms. Failures of a pass are logged to `logger`. */
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly mailer: Mailer,
    private readonly logger: Logger,
    pollMs = 2000,
  ) {
    this.job = new BackgroundJob({ name: 'email-delivery', logger, pollMs, pass: () => this.runOnce() });
  }

  /** Starts sending; returns `stop`, which waits for the running pass and closes the mailer. */
  start(): () => Promise<void> {
    const stop = this.job.start();
    return async () => {
      await stop();
      this.mailer.close();
    };
  }

  /** Asks for a pass soon (an email was queued). */
  nudge(): void {
    this.job.nudge();
  }

  /** Sends until nothing is due; returns how many emails were handled. For tests and the command line. */
  drain(): Promise<number> {
    return this.job.drain();
  }

  /** One pass over due emails; returns how many were handled (sent or failed). */
  async runOnce(): Promise<number> {
    const now = this.clock.now();
    const iso = now.toISOString();
    await this.db.updateTable('outbound_email').set({ state: 'pending', locked_until: null }).where('state', '=', 'sending').where('locked_until', '<', iso).execute();
    const due = await this.db.selectFrom('outbound_email').select('id').where('state', '=', 'pending').where('run_after', '<=', iso).orderBy('run_after').limit(50).execute();
    let handled = 0;
    for (const { id } of due) {
      const claimed = await this.db
        .updateTable('outbound_email')
        .set({ state: 'sending', locked_until: new Date(now.getTime() + LEASE_MS).toISOString() })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      if (!claimed) continue;
      handled++;
      try {
        await this.mailer.send({ to: claimed.to_address, subject: claimed.subject, text: claimed.text_body, html: claimed.html_body });
        await this.db.updateTable('outbound_email').set({ state: 'sent', sent_at: this.clock.now().toISOString(), attempts: claimed.attempts + 1, last_error: null, locked_until: null }).where('id', '=', id).execute();
      } catch (error) {
        const attempts = claimed.attempts + 1;
        const permanent = error instanceof PermanentMailError || attempts >= MAX_ATTEMPTS;
        const delay = Math.min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** (attempts - 1));
        await this.db
          .updateTable('outbound_email')
          .set({
            state: permanent ? 'failed' : 'pending',
            attempts,
            last_error: String((error as Error).message ?? error).slice(0, 500),
            run_after: new Date(this.clock.now().getTime() + delay * 1000).toISOString(),
            locked_until: null,
          })
          .where('id', '=', id)
          .execute();
        this.logger.warn({ emailId: id, coId: claimed.co_id, attempts, permanent, error: String((error as Error).message ?? error).slice(0, 500) }, 'email delivery failed');
      }
    }
    return handled;
  }
}
