import type { Executor } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import type { EmailState, NotificationTable, OutboundEmailTable } from './notification.table.ts';

/** A notice as shown to its person. */
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

/** A queued email that failed for good or is failing and waiting for a retry. */
export interface EmailFailure {
  id: string;
  toAddress: string;
  subject: string;
  state: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

const toView = (r: NotificationTable): NotificationView => ({ id: r.id, coId: r.co_id, kind: r.kind, subject: r.subject, body: r.body, link: r.link, createdAt: r.created_at, readAt: r.read_at });

/** Inserts a notice (its `co_id` and `person_id` scope it). */
export async function insertNotification(db: Executor, row: NotificationTable): Promise<void> {
  await db.insertInto('notification').values(row).execute();
}

/** Queues an email in the outbox; the delivery worker sends it. */
export async function insertOutboundEmail(db: Executor, row: OutboundEmailTable): Promise<void> {
  await db.insertInto('outbound_email').values(row).execute();
}

/**
 * Notices of these people (one person id per CO the signed-in username is in), newest first (ties
 * by id), at most `limit`. Person ids are unique across COs, so they scope the query.
 */
export async function listNotificationsOf(db: Executor, personIds: readonly string[], limit: number): Promise<NotificationView[]> {
  if (personIds.length === 0) return [];
  const rows = await db.selectFrom('notification').selectAll().where('person_id', 'in', personIds).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  return rows.map(toView);
}

/** How many of these people's notices are unread. */
export async function countUnreadOf(db: Executor, personIds: readonly string[]): Promise<number> {
  if (personIds.length === 0) return 0;
  const row = await db.selectFrom('notification').select((eb) => eb.fn.countAll<string | number>().as('n')).where('person_id', 'in', personIds).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks these people's unread notices read at `readAt` (ISO): one (by id) or all. */
export async function markNotificationsRead(db: Executor, personIds: readonly string[], readAt: string, notificationId?: string): Promise<void> {
  if (personIds.length === 0) return;
  let q = db.updateTable('notification').set({ read_at: readAt }).where('person_id', 'in', personIds).where('read_at', 'is', null);
  if (notificationId) q = q.where('id', '=', notificationId);
  await q.execute();
}

/** The CO's emails that failed for good, or are pending after a failed attempt, newest first (at most 200). */
export async function listDeliveryFailures(db: Executor, coId: string): Promise<EmailFailure[]> {
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

/** Puts a failed email of the CO back in the queue, due at `runAfter` with a fresh attempt count; false when there is no such failed email. */
export async function requeueFailedEmail(db: Executor, coId: string, emailId: string, runAfter: string): Promise<boolean> {
  if (!isId(emailId)) return false;
  const r = await db.updateTable('outbound_email').set({ state: 'pending', attempts: 0, run_after: runAfter }).where('id', '=', emailId).where('co_id', '=', coId).where('state', '=', 'failed').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// The delivery worker's side of the outbox. It works across COs by design: it sends every CO's mail.

/** Returns emails whose sending lease ended before `now` (a worker died mid-send) to the queue. */
export async function releaseExpiredEmailLeases(db: Executor, now: Date): Promise<void> {
  await db.updateTable('outbound_email').set({ state: 'pending', locked_until: null }).where('state', '=', 'sending').where('locked_until', '<', now.toISOString()).execute();
}

/** Ids of pending emails due at `now`, oldest due first, at most `limit`. */
export async function listDueEmailIds(db: Executor, now: Date, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('outbound_email').select('id').where('state', '=', 'pending').where('run_after', '<=', now.toISOString()).orderBy('run_after').limit(limit).execute();
  return rows.map((r) => r.id);
}

/**
 * Claims a pending email for sending until `lockedUntil`, with an UPDATE … WHERE state = 'pending',
 * so two workers never send the same email. Returns the row, or undefined when another worker won.
 */
export async function claimEmail(db: Executor, emailId: string, lockedUntil: Date): Promise<OutboundEmailTable | undefined> {
  return db
    .updateTable('outbound_email')
    .set({ state: 'sending', locked_until: lockedUntil.toISOString() })
    .where('id', '=', emailId)
    .where('state', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** Records a claimed email as sent at `sentAt`, after `attempts` attempts in all. */
export async function markEmailSent(db: Executor, emailId: string, attempts: number, sentAt: Date): Promise<void> {
  await db.updateTable('outbound_email').set({ state: 'sent', sent_at: sentAt.toISOString(), attempts, last_error: null, locked_until: null }).where('id', '=', emailId).execute();
}

/** Records a failed attempt: `pending` again from `runAfter`, or `failed` for good; `lastError` is cut to 500 characters. */
export async function settleFailedEmail(db: Executor, emailId: string, outcome: { state: Extract<EmailState, 'pending' | 'failed'>; attempts: number; lastError: string; runAfter: Date }): Promise<void> {
  await db
    .updateTable('outbound_email')
    .set({ state: outcome.state, attempts: outcome.attempts, last_error: outcome.lastError.slice(0, 500), run_after: outcome.runAfter.toISOString(), locked_until: null })
    .where('id', '=', emailId)
    .execute();
}
