import type { Executor } from '../../db/database.ts';
import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { Clock } from '../clock.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';

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

  async notify(db: Executor, notice: Notice): Promise<void> {
    const now = this.clock.now().toISOString();
    const notificationId = newId();
    await db
      .insertInto('notification')
      .values({ id: notificationId, co_id: notice.coId, person_id: notice.personId, kind: notice.kind, subject: notice.subject, body: notice.text, link: notice.link ?? null, created_at: now, read_at: null })
      .execute();
    if (!this.mailEnabled) return;
    const to = await recipientOf(db, notice.coId, notice.personId);
    if (!to) return;
    await db
      .insertInto('outbound_email')
      .values({ id: newId(), co_id: notice.coId, notification_id: notificationId, to_address: to, subject: notice.subject, text_body: notice.text, html_body: notice.html, state: 'pending', attempts: 0, run_after: now, locked_until: null, last_error: null, created_at: now, sent_at: null })
      .execute();
  }
}

/** The person's preferred verified address, else their official verified one. */
export async function recipientOf(db: Executor, coId: string, personId: string): Promise<string | undefined> {
  const rows = await db.selectFrom('email_address').select(['mail', 'type']).where('co_id', '=', coId).where('person_id', '=', personId).where('verified', '=', 1).execute();
  return (rows.find((r) => r.type === 'preferred') ?? rows.find((r) => r.type === 'official'))?.mail;
}

export interface NotificationView {
  id: string;
  coId: string;
  kind: string;
  subject: string;
  body: string;
  link: string | null;
  createdAt: string;
  readAt: string | null;
}

/** The signed-in person's notices across the COs they are in, newest first. */
export async function listMyNotifications(db: Executor, actor: Actor, limit = 100): Promise<NotificationView[]> {
  if (actor.kind !== 'person') return [];
  const personIds = Object.values(actor.personIds);
  if (personIds.length === 0) return [];
  const rows = await db.selectFrom('notification').selectAll().where('person_id', 'in', personIds).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, coId: r.co_id, kind: r.kind, subject: r.subject, body: r.body, link: r.link, createdAt: r.created_at, readAt: r.read_at }));
}

export async function countUnread(db: Executor, actor: Actor): Promise<number> {
  if (actor.kind !== 'person') return 0;
  const personIds = Object.values(actor.personIds);
  if (personIds.length === 0) return 0;
  const row = await db.selectFrom('notification').select((eb) => eb.fn.countAll<string | number>().as('n')).where('person_id', 'in', personIds).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks the person's notices read (one, or all when no id is given). */
export async function markRead(db: Executor, clock: Clock, actor: Actor, notificationId?: string): Promise<void> {
  if (actor.kind !== 'person') throw new AppError(CORE_ERRORS.FORBIDDEN);
  const personIds = Object.values(actor.personIds);
  if (personIds.length === 0) return;
  if (notificationId !== undefined && !isId(notificationId)) throw new AppError(CORE_ERRORS.NOT_FOUND);
  let q = db.updateTable('notification').set({ read_at: clock.now().toISOString() }).where('person_id', 'in', personIds).where('read_at', 'is', null);
  if (notificationId) q = q.where('id', '=', notificationId);
  await q.execute();
}

export interface EmailFailure {
  id: string;
  toAddress: string;
  subject: string;
  state: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** Emails of the CO that failed for good or are failing and waiting for a retry (CO admins). */
export async function deliveryFailures(db: Executor, actor: Actor, coId: string): Promise<EmailFailure[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const rows = await db
    .selectFrom('outbound_email')
    .select(['id', 'to_address', 'subject', 'state', 'attempts', 'last_error', 'created_at'])
    .where('co_id', '=', coId)
    .where((eb) => eb.or([eb('state', '=', 'failed'), eb.and([eb('state', '=', 'pending'), eb('attempts', '>', 0)])]))
    .orderBy('created_at', 'desc')
    .limit(200)
    .execute();
  return rows.map((r) => ({ id: r.id, toAddress: r.to_address, subject: r.subject, state: r.state, attempts: r.attempts, lastError: r.last_error, createdAt: r.created_at }));
}

export async function retryEmail(db: Executor, clock: Clock, actor: Actor, coId: string, emailId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!isId(emailId)) throw new AppError(CORE_ERRORS.NOT_FOUND);
  const r = await db.updateTable('outbound_email').set({ state: 'pending', attempts: 0, run_after: clock.now().toISOString() }).where('id', '=', emailId).where('co_id', '=', coId).where('state', '=', 'failed').executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new AppError(CORE_ERRORS.NOT_FOUND, { message: 'No such failed email' });
}
