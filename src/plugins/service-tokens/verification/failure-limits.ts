import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { newId } from '../../../db/ids.ts';
import { inTransaction } from '../../../db/transaction.ts';
import { RateLimiter } from '../../../core/http/rate-limiter.ts';
import type { Clock } from '../../../core/clock.ts';
import type { TokenDb } from '../token-context.ts';

const WINDOW_MS = 60_000;

/** A rate-limit key and which limit applies to it (failures per minute). */
export interface LimitKey {
  kind: 'address' | 'identifier';
  key: string;
}

/** Failures per minute allowed under each kind of key. */
export type LimitsByKind = Record<LimitKey['kind'], number>;

/** Admitted to a check: settle it when the check ends (`failed`: it counts as a failure). */
export interface Admission {
  settle(failed: boolean): Promise<void>;
}

/**
 * Failed-verification counters, per minute (a sliding window, like `RateLimiter`).
 * - `admit` (types where guessing is plausible): before the check; resolves with the seconds to
 *   wait when a key is at its limit, else an Admission. Checks under way count against the limit
 *   until they end: guesses sent together get no further than the limit, and correct tokens
 *   arriving together wait for one under way to end instead of being refused.
 * - `fail` (unguessable types, after a failed check): the seconds to wait when the key is already
 *   at its limit (nothing recorded), else 0 once the failure is recorded.
 */
export interface FailureLimits {
  admit(keys: readonly LimitKey[]): Promise<number | Admission>;
  fail(key: LimitKey): Promise<number>;
}

/** Resolves when any check under way in this process ends. */
class Ends {
  private waiting: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  signal(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }
}

const keyOf = (k: LimitKey) => `${k.kind}\u0000${k.key}`;
/** What the database stores for a key: its SHA-256 (no identifier or address kept, no NUL sent). */
const storedKeyOf = (k: LimitKey) => createHash('sha256').update(keyOf(k)).digest('base64url');

/** Counters in this process's memory: right for one process (SQLite, or a single PostgreSQL server). */
export class MemoryFailureLimits implements FailureLimits {
  private readonly limiters: Record<LimitKey['kind'], RateLimiter>;
  private readonly underWay = new Map<string, number>();
  private readonly ends = new Ends();

  /** `now` is epoch milliseconds (the app's clock). */
  constructor(limits: LimitsByKind, now: () => number) {
    this.limiters = { address: new RateLimiter(limits.address, WINDOW_MS, now), identifier: new RateLimiter(limits.identifier, WINDOW_MS, now) };
  }

  async admit(keys: readonly LimitKey[]): Promise<number | Admission> {
    for (;;) {
      const wait = Math.max(...keys.map((k) => this.limiters[k.kind].check(k.key)));
      if (wait > 0) return wait;
      if (keys.every((k) => (this.underWay.get(keyOf(k)) ?? 0) < this.limiters[k.kind].remaining(k.key))) break;
      await this.ends.wait();
    }
    for (const k of keys) this.underWay.set(keyOf(k), (this.underWay.get(keyOf(k)) ?? 0) + 1);
    return {
      settle: async (failed) => {
        for (const k of keys) {
          const n = (this.underWay.get(keyOf(k)) ?? 0) - 1;
          if (n > 0) this.underWay.set(keyOf(k), n);
          else this.underWay.delete(keyOf(k));
          if (failed) this.limiters[k.kind].hit(k.key);
        }
        this.ends.signal();
      },
    };
  }

  async fail(k: LimitKey): Promise<number> {
    const wait = this.limiters[k.kind].check(k.key);
    if (wait === 0) this.limiters[k.kind].hit(k.key);
    return wait;
  }
}

/** How often a process waiting for checks under way elsewhere looks again, in milliseconds. */
const POLL_MS = 20;

/**
 * Counters in PostgreSQL (`service_token_verify_failure`), shared by every process and host on the
 * database: N processes allow no more failures than one. Each decision runs in a transaction
 * holding a transaction-level advisory lock per key (`pg_advisory_xact_lock(hashtext(key))`), so
 * two processes never both see room for the last attempt. A check under way is a row with
 * `pending = 1` (deleted when the check succeeds, turned into a failure when it fails); one left
 * by a process that died stops counting after a minute. Rows older than a minute are deleted now
 * and then. Costs nothing for a correct unguessable token; one short transaction per failure, and
 * two per check of a guessable type.
 */
export class DatabaseFailureLimits implements FailureLimits {
  private readonly ends = new Ends();
  private lastPrune = 0;

  constructor(
    private readonly db: TokenDb,
    private readonly limits: LimitsByKind,
    private readonly clock: Clock,
  ) {}

  /** Seconds to wait for `k` at `t` (0: room), and how many checks of it are under way. */
  private async state(trx: TokenDb, k: LimitKey, t: number): Promise<{ wait: number; failures: number; pending: number }> {
    const limit = this.limits[k.kind];
    const rows = await trx
      .selectFrom('service_token_verify_failure')
      .select(['at', 'pending'])
      .where('key', '=', storedKeyOf(k))
      .where('at', '>', t - WINDOW_MS)
      .orderBy('at', 'desc')
      .execute();
    const failures = rows.filter((r) => r.pending === 0).map((r) => Number(r.at));
    const wait = failures.length >= limit ? Math.max(1, Math.ceil((failures[limit - 1]! + WINDOW_MS - t) / 1000)) : 0;
    return { wait, failures: failures.length, pending: rows.length - failures.length };
  }

  private async locked<T>(keys: readonly LimitKey[], work: (trx: TokenDb, t: number) => Promise<T>): Promise<T> {
    const t = this.clock.now().getTime();
    if (t - this.lastPrune > WINDOW_MS) {
      this.lastPrune = t;
      await this.db.deleteFrom('service_token_verify_failure').where('at', '<=', t - WINDOW_MS).execute();
    }
    return inTransaction(this.db, async (trx) => {
      for (const key of [...new Set(keys.map(storedKeyOf))].sort()) await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
      return work(trx, t);
    });
  }

  async admit(keys: readonly LimitKey[]): Promise<number | Admission> {
    for (;;) {
      const outcome = await this.locked(keys, async (trx, t) => {
        let room = true;
        for (const k of keys) {
          const { wait, failures, pending } = await this.state(trx, k, t);
          if (wait > 0) return wait;
          if (failures + pending >= this.limits[k.kind]) room = false;
        }
        if (!room) return 'busy' as const;
        const ids = keys.map(() => newId());
        await trx.insertInto('service_token_verify_failure').values(keys.map((k, i) => ({ id: ids[i]!, key: storedKeyOf(k), at: t, pending: 1 }))).execute();
        return ids;
      });
      if (typeof outcome === 'number') return outcome;
      if (outcome !== 'busy') return { settle: (failed) => this.settle(outcome, failed) };
      await Promise.race([this.ends.wait(), new Promise((resolve) => setTimeout(resolve, POLL_MS))]);
    }
  }

  private async settle(ids: string[], failed: boolean): Promise<void> {
    try {
      if (failed) await this.db.updateTable('service_token_verify_failure').set({ pending: 0, at: this.clock.now().getTime() }).where('id', 'in', ids).execute();
      else await this.db.deleteFrom('service_token_verify_failure').where('id', 'in', ids).execute();
    } finally {
      this.ends.signal();
    }
  }

  async fail(k: LimitKey): Promise<number> {
    return this.locked([k], async (trx, t) => {
      const { wait } = await this.state(trx, k, t);
      if (wait > 0) return wait;
      await trx.insertInto('service_token_verify_failure').values({ id: newId(), key: storedKeyOf(k), at: t, pending: 0 }).execute();
      return 0;
    });
  }
}
