import type { Executor } from '../../db/database.ts';
import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { Clock } from '../clock.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { verifiedEmailsOf } from '../people/person.repository.ts';
import {
  countUnreadOf,
  insertNotification,
  insertOutboundEmail,
  listDeliveryFailures,
  listNotificationsOf,
  markNotificationsRead,
  requeueFailedEmail,
  type EmailFailure,
  type NotificationView,
} from './notification.repository.ts';

export type { EmailFailure, NotificationView } from './notification.repository.ts';

/** What to tell a person: the notice text, its email versions, and where to act. */
export interface Notice {
  coId: string;
  personId: string;
  kind: string;
  subject: string;
  text: string;
  html: string;
  /** Where in Tessera the person acts on it (a path). */
  link?: string;
}

/**
 * Records a notice for a person and, when mail is set up and the person has an official or
 * preferred verified address, queues the email — in the caller's transaction, so the notice
 * exists exactly when the event does.
 */
export class Notifier {
  constructor(
    private readonly clock: Clock,
    private readonly mailEnabled: boolean,
    /** Where people reach Tessera, for links in emails. */
    readonly publicUrl: string,
  ) {}

  /** Records the notice, and queues its email when there is a recipient; `db` is the caller's transaction. */
  async notify(db: Executor, notice: Notice): Promise<void> {
    const now = this.clock.now().toISOString();
    const notificationId = newId();
    await insertNotification(db, { id: notificationId, co_id: notice.coId, person_id: notice.personId, kind: notice.kind, subject: notice.subject, body: notice.text, link: notice.link ?? null, created_at: now, read_at: null });
    if (!this.mailEnabled) return;
    const to = await recipientOf(db, notice.coId, notice.personId);
    if (!to) return;
    await insertOutboundEmail(db, {
      id: newId(),
      co_id: notice.coId,
      notification_id: notificationId,
      to_address: to,
      subject: notice.subject,
      text_body: notice.text,
      html_body: notice.html,
      state: 'pending',
      attempts: 0,
      run_after: now,
      locked_until: null,
      last_error: null,
      created_at: now,
      sent_at: null,
    });
  }
}

/** The person's preferred verified address, else their official verified one. */
export async function recipientOf(db: Executor, coId: string, personId: string): Promise<string | undefined> {
  const rows = await verifiedEmailsOf(db, coId, personId);
  return (rows.find((r) => r.type === 'preferred') ?? rows.find((r) => r.type === 'official'))?.mail;
}

const myPersonIds = (actor: Actor): string[] => (actor.kind === 'person' ? Object.values(actor.personIds) : []);

/** The signed-in person's notices across the COs they are in, newest first; none for other actors. */
export async function listMyNotifications(db: Executor, actor: Actor, limit = 100): Promise<NotificationView[]> {
  return listNotificationsOf(db, myPersonIds(actor), limit);
}

/** How many of the signed-in person's notices are unread (0 for other actors). */
export async function countUnread(db: Executor, actor: Actor): Promise<number> {
  return countUnreadOf(db, myPersonIds(actor));
}

/** Marks the person's notices read (one, or all when no id is given). FORBIDDEN to non-persons, NOT_FOUND for a malformed id. */
export async function markRead(db: Executor, clock: Clock, actor: Actor, notificationId?: string): Promise<void> {
  if (actor.kind !== 'person') throw new AppError(CORE_ERRORS.FORBIDDEN);
  const personIds = myPersonIds(actor);
  if (personIds.length === 0) return;
  if (notificationId !== undefined && !isId(notificationId)) throw new AppError(CORE_ERRORS.NOT_FOUND);
  await markNotificationsRead(db, personIds, clock.now().toISOString(), notificationId);
}

/** Emails of the CO that failed for good or are failing and waiting for a retry (CO admins). */
export async function deliveryFailures(db: Executor, actor: Actor, coId: string): Promise<EmailFailure[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return listDeliveryFailures(db, coId);
}

/** Queues a failed email of the CO again now (CO admins); NOT_FOUND when there is no such failed email. */
export async function retryEmail(db: Executor, clock: Clock, actor: Actor, coId: string, emailId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!isId(emailId)) throw new AppError(CORE_ERRORS.NOT_FOUND);
  if (!(await requeueFailedEmail(db, coId, emailId, clock.now().toISOString()))) throw new AppError(CORE_ERRORS.NOT_FOUND, { message: 'No such failed email' });
}
