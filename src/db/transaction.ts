import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';

/*
 * Lock order. On PostgreSQL, transactions that write take their row locks in one global order,
 * so that two of them never wait for each other in a cycle:
 *
 *   CO (`lockCo`) → provisioning target → person (`lockPerson`) → the person's rows → jobs.
 *
 * A change that reaches one person locks the CO shared and the person exclusively; a change that
 * reaches many people (a group, a service, a target, a reprovision, a sweep) locks the CO
 * exclusively, so it runs alone in its CO. The provisioning worker never waits on a job another
 * transaction holds (it claims with SKIP LOCKED) and settles a job only after keeping its target
 * and person (`FOR KEY SHARE`). What slips through this order anyway is retried by `inTransaction`.
 */

/** Attempts of one transaction at most (the first and the retries) when it loses a conflict. */
export const TRANSACTION_ATTEMPTS = 5;

/**
 * Whether an error is a transient conflict between transactions that a new attempt may not meet:
 * PostgreSQL's serialization failure (SQLSTATE 40001) and deadlock (40P01), where the server
 * rolled back one of the transactions for the other to go on (PostgreSQL manual, "Transaction
 * Isolation" and Appendix A). SQLite serialises writers and never reports either.
 */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

export interface TransactionOptions {
  /** Attempts at most; default TRANSACTION_ATTEMPTS. */
  attempts?: number;
  /** Other errors that are worth a new attempt (e.g. a unique key a concurrent insert just took). */
  retryIf?: (error: unknown) => boolean;
}

/**
 * Runs `work` in a transaction, the services' one way to open one. When PostgreSQL aborts it as a
 * deadlock victim or for a serialization failure, the whole transaction runs again, at most
 * `attempts` times in all, after a short random pause (5–50 ms, doubling) so the rivals do not
 * meet again; the last failure is rethrown. `work` must therefore do nothing outside the database
 * that cannot happen twice (computing a secret before, and returning it, is fine; sending it is not).
 * Domain errors (AppError) and every other failure end it at once.
 */
export async function inTransaction<DB, T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const attempts = options.attempts ?? TRANSACTION_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      const retry = isTransientConflict(error) || (options.retryIf?.(error) ?? false);
      if (!retry || attempt >= attempts) throw error;
      await sleep(Math.round((5 + Math.random() * 45) * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Whether the executor's database takes row locks (`SELECT … FOR UPDATE` and kin): PostgreSQL
 * does; SQLite has no row locks (a writing transaction holds the whole database), so the lock
 * helpers built on this do nothing there and stay correct.
 */
export function takesRowLocks(db: { getExecutor(): { adapter: unknown } }): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
