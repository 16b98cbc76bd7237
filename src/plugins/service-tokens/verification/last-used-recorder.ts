import type { Logger } from '../../../core/logging/logger.ts';
import type { TokenContext } from '../token-context.ts';
import { inTransaction, takesRowLocks } from '../../../db/transaction.ts';
import { recordLastUses, type LastUse } from './last-used.repository.ts';

const LAST_USED_WRITE_MS = 60_000;
/**
 * How long writes that fell due wait for others to join them, in milliseconds. Each SQLite commit
 * waits for the disk (WAL, synchronous FULL) and blocks the event loop meanwhile; when tokens new
 * to the process arrive by the thousand per second (after a restart), a commit per event-loop turn
 * was most of a verification's cost. Ten milliseconds gather them into a few commits.
 */
const BATCH_MS = 10;
/**
 * How long the next batch waits after a batch of at least BUSY_BATCH writes (a stream of tokens
 * new to the process, as after a restart): 100 commits a second, each a disk sync on the event
 * loop, were a large part of each such verification; four a second cost little, and a last use is
 * recorded to the minute anyway. A quiet process writes after BATCH_MS as before.
 */
const BUSY_BATCH_MS = 250;
const BUSY_BATCH = 32;

/**
 * Keeps last-used times in memory and writes each token's at most once a minute, so verification
 * is not a database write per call. `flush` writes what is pending (on a timer and at shutdown).
 * Writes that fall due together (tokens first seen within BATCH_MS of each other) go into
 * one transaction: on SQLite each commit waits for the disk, and a burst of new tokens would
 * otherwise cost one disk sync each, blocking the event loop every time.
 */
export class LastUsedRecorder {
  private readonly written = new Map<string, number>();
  /** The latest use of each token not written yet: when (ms since the epoch) and from where. */
  private readonly pending = new Map<string, { at: number; address: string }>();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** How many writes the last flush made (its size decides how long the next batch waits). */
  private lastBatch = 0;

  constructor(
    private readonly ctx: TokenContext,
    private readonly logger: Logger,
  ) {}

  /** Notes a use of `tokenId` at `at` from `address`; written within BATCH_MS if its last write is a minute old. */
  record(tokenId: string, at: Date, address: string): void {
    const ms = at.getTime();
    // Called on every verification: the entry is updated in place, the ISO text made only when written.
    const entry = this.pending.get(tokenId);
    if (entry) {
      entry.at = ms;
      entry.address = address;
    } else this.pending.set(tokenId, { at: ms, address });
    const last = this.written.get(tokenId) ?? 0;
    if (ms - last >= LAST_USED_WRITE_MS && !this.scheduled) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        void this.flush();
      }, this.lastBatch >= BUSY_BATCH ? BUSY_BATCH_MS : BATCH_MS).unref();
    }
  }

  flush(): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    const due: LastUse[] = [];
    for (const [id, v] of this.pending) {
      if (now - (this.written.get(id) ?? 0) < LAST_USED_WRITE_MS) continue;
      due.push({ tokenId: id, at: new Date(v.at).toISOString(), address: v.address });
      this.pending.delete(id);
      this.written.set(id, now);
    }
    this.lastBatch = due.length;
    if (this.written.size > 100_000) for (const [id, t] of this.written) if (now - t > LAST_USED_WRITE_MS) this.written.delete(id);
    if (due.length === 0) return this.writing;
    this.writing = this.writing.then(async () => {
      // One statement on PostgreSQL; on SQLite one commit for the batch.
      if (due.length === 1 || takesRowLocks(this.ctx.db)) await recordLastUses(this.ctx.db, due);
      else await inTransaction(this.ctx.db, (trx) => recordLastUses(trx, due));
    }).catch((err: unknown) => this.logger.error({ err }, 'recording last use failed'));
    return this.writing;
  }

  /** Writes everything pending, whenever it was last written (at shutdown). */
  async flushAll(): Promise<void> {
    this.written.clear();
    await this.flush();
  }
}
