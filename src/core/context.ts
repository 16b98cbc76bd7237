import type { Db, DialectName, Executor } from '../db/database.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logging/logger.ts';
import type { Notifier } from './notifications/notification.service.ts';

/** A change that may affect what provisioning targets should hold. */
export type ChangeEvent =
  | { kind: 'person'; coId: string; personId: string; reason: string }
  | { kind: 'person-deleted'; coId: string; personId: string; reason: string }
  | { kind: 'service'; coId: string; serviceId: string; reason: string }
  | { kind: 'group'; coId: string; groupId: string; reason: string };

/**
 * Listeners run inside the transaction of the change, so that what they write (provisioning jobs,
 * notices) commits or rolls back with it: a transactional outbox.
 */
export type ChangeListener = (db: Executor, event: ChangeEvent) => Promise<void>;

export interface CoreContext {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  /** Structured logs (pino); never given a secret. */
  logger: Logger;
  changeListeners: ChangeListener[];
  /** Records notices for people (and queues their emails) inside the caller's transaction. */
  notifier: Notifier;
}

export async function publishChange(ctx: CoreContext, db: Executor, event: ChangeEvent): Promise<void> {
  for (const listener of ctx.changeListeners) await listener(db, event);
}
