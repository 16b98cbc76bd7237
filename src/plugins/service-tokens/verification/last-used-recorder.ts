import type { Logger } from '../../../core/logging/logger.ts';
import type { TokenContext, TokenDb } from '../token-context.ts';
import { recordLastUse } from '../tokens/service-token.repository.ts';
import { inTransaction } from '../../../db/transaction.ts';

const LAST_USED_WRITE_MS = 60_000;
/**
 * How long writes that fell due wait for others to join them, in milliseconds. Each SQLite commit
 * waits for the disk (WAL, synchronous FULL) and blocks the event loop meanwhile; when tokens new
 * to the process arrive by the thousand per second (after a restart), a commit per event-loop turn
 * was most of a verification's cost. Ten milliseconds gather them into a few commits.
 */
const BATCH_MS = 10;

/**
 * Keeps last-used times in memory and writes each token's at most once a minute, so verification
 * is not a database write per call. `flush` writes what is pending (on a timer and at shutdown).
 * Writes that fall due together (tokens first seen within BATCH_MS of each other) go into
 * one transaction: on SQLite each commit waits for the disk, and a burst of new tokens would
 * otherwise cost one disk sync each, blocking the event loop every time.
 */
export class LastUsedRecorder {
  private readonly written = new Map<string, number>();
  private readonly pending = new Map<string, { at: string; address: string }>();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(
    private readonly ctx: TokenContext,
    private readonly logger: Logger,
  ) {}

  record(tokenId: string, at: Date, address: string): void {
    this.pending.set(tokenId, { at: at.toISOString(), address });
    const last = this.written.get(tokenId) ?? 0;
    if (at.getTime() - last >= LAST_USED_WRITE_MS && !this.scheduled) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        void this.flush();
      }, BATCH_MS).unref();
    }
  }

  flush(): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    const due = [...this.pending].filter(([id]) => now - (this.written.get(id) ?? 0) >= LAST_USED_WRITE_MS);
    for (const [id] of due) {
      this.pending.delete(id);
      this.written.set(id, now);
    }
    if (this.written.size > 100_000) for (const [id, t] of this.written) if (now - t > LAST_USED_WRITE_MS) this.written.delete(id);
    if (due.length === 0) return this.writing;
    this.writing = this.writing.then(async () => {
      const write = async (db: TokenDb) => {
        for (const [id, v] of due) await recordLastUse(db, id, v.at, v.address);
      };
      if (due.length === 1) await write(this.ctx.db);
      else await inTransaction(this.ctx.db, write);
    }).catch((err: unknown) => this.logger.error({ err }, 'recording last use failed'));
    return this.writing;
  }

  /** Writes everything pending, whenever it was last written (at shutdown). */
  async flushAll(): Promise<void> {
    this.written.clear();
    await this.flush();
  }
}
