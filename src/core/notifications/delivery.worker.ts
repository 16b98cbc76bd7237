import type { Db } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import { BackgroundJob } from '../jobs/background-job.ts';
import type { Logger } from '../logging/logger.ts';
import { PermanentMailError, type Mailer } from './mailer.ts';
import { claimEmail, listDueEmailIds, markEmailSent, releaseExpiredEmailLeases, settleFailedEmail } from './notification.repository.ts';

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
    await releaseExpiredEmailLeases(this.db, now);
    let handled = 0;
    for (const id of await listDueEmailIds(this.db, now, 50)) {
      const claimed = await claimEmail(this.db, id, new Date(now.getTime() + LEASE_MS));
      if (!claimed) continue;
      handled++;
      try {
        await this.mailer.send({ to: claimed.to_address, subject: claimed.subject, text: claimed.text_body, html: claimed.html_body });
        await markEmailSent(this.db, id, claimed.attempts + 1, this.clock.now());
      } catch (error) {
        const attempts = claimed.attempts + 1;
        const permanent = error instanceof PermanentMailError || attempts >= MAX_ATTEMPTS;
        const delay = Math.min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** (attempts - 1));
        const lastError = String((error as Error).message ?? error).slice(0, 500);
        await settleFailedEmail(this.db, id, { state: permanent ? 'failed' : 'pending', attempts, lastError, runAfter: new Date(this.clock.now().getTime() + delay * 1000) });
        this.logger.warn({ emailId: id, coId: claimed.co_id, attempts, permanent, error: lastError }, 'email delivery failed');
      }
    }
    return handled;
  }
}
