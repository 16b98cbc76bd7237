import type { Logger } from '../logging/logger.ts';

/** What a background job is made of. Durations are in milliseconds. */
export interface BackgroundJobOptions {
  /** Names the job in log lines (e.g. `provisioning`, `email-delivery`). */
  name: string;
  /**
   * One pass of work. Returns how many items it handled: a pass that handled some is followed at
   * once by another (there may be more), a pass that handled none (or returns nothing) waits for
   * the poll interval or a nudge. A pass that throws is logged and retried after a back-off.
   */
  pass: () => Promise<number | void>;
  logger: Logger;
  /** Wait between passes when there was nothing to do. Default 1000. */
  pollMs?: number;
  /** A nudge runs a pass this long after the last nudge of a burst (debounce). Default 20. */
  nudgeDelayMs?: number;
  /** …but never later than this after the first nudge of the burst, so a steady stream of nudges cannot starve the pass. Default 200. */
  nudgeMaxWaitMs?: number;
  /** Longest wait after failing passes; the wait starts at `pollMs` and doubles per failure in a row. Default 60 000. */
  maxBackoffMs?: number;
}

/**
 * Runs a `pass()` over and over in the background: after a pass that did work, at once; after an
 * idle one, every `pollMs` or soon after a `nudge()`; after a failing one, with exponential
 * back-off. Passes of one job never overlap: `runOnce`/`drain` wait for the running pass. Its timers
 * are unref'd, so a started job never keeps the process alive by itself.
 *
 * Used by the provisioning worker, email delivery and periodic sweeps:
 *
 * ```ts
 * const job = new BackgroundJob({ name: 'expiry-sweep', pass: () => sweep(db), logger, pollMs: 60_000 });
 * const stop = job.start();   // …later: await stop();
 * ```
 */
export class BackgroundJob {
  readonly name: string;
  private readonly pass: () => Promise<number | void>;
  private readonly logger: Logger;
  private readonly pollMs: number;
  private readonly nudgeDelayMs: number;
  private readonly nudgeMaxWaitMs: number;
  private readonly maxBackoffMs: number;

  private started = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (ms since the epoch), and whether a nudge set it. */
  private due: { at: number; byNudge: boolean } | undefined;
  /** Start of the current burst of nudges, for the maximum wait. */
  private firstNudgeAt: number | undefined;
  private nudgedWhileRunning = false;
  private busy = 0;
  /** A loop pass is under way (from its timer firing until the next timer is set). */
  private looping = false;
  private failures = 0;
  /** The last pass scheduled; the next waits for it, so passes never overlap. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: BackgroundJobOptions) {
    this.name = options.name;
    this.pass = options.pass;
    this.logger = options.logger;
    this.pollMs = options.pollMs ?? 1000;
    this.nudgeDelayMs = options.nudgeDelayMs ?? 20;
    this.nudgeMaxWaitMs = Math.max(options.nudgeMaxWaitMs ?? 200, this.nudgeDelayMs);
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
  }

  /**
   * Starts the loop, its first pass begun before this returns (so a `stop` right after waits for
   * it: work due at start-up is done even by a process that stops at once). Returns `stop`.
   * Starting a started job does nothing more.
   */
  start(): () => Promise<void> {
    if (!this.started) {
      this.started = true;
      this.failures = 0;
      void this.tick();
    }
    return () => this.stop();
  }

  /** Stops the loop; resolves once the running pass (if any) has finished. */
  async stop(): Promise<void> {
    this.started = false;
    this.clearTimer();
    this.firstNudgeAt = undefined;
    this.nudgedWhileRunning = false;
    await this.tail;
  }

  /**
   * Asks for a pass soon, e.g. after a change that queued work has committed. Nudges in a burst
   * give one pass, `nudgeDelayMs` after the last of them and at most `nudgeMaxWaitMs` after the
   * first. A nudge during a pass gives another pass right after it. Does nothing while the job is
   * stopped or backing off after a failure.
   */
  nudge(): void {
    if (!this.started || this.failures > 0) return;
    if (this.looping || this.busy > 0) {
      this.nudgedWhileRunning = true;
      return;
    }
    const now = Date.now();
    this.firstNudgeAt ??= now;
    const at = Math.min(now + this.nudgeDelayMs, this.firstNudgeAt + this.nudgeMaxWaitMs);
    // A poll that comes sooner stands; a nudge's own timer is pushed back (up to the maximum wait).
    if (this.due && !this.due.byNudge && this.due.at <= at) return;
    this.schedule(Math.max(0, at - now), true);
  }

  /**
   * Runs one pass now (after the running one, if any) and returns how many items it handled.
   * Errors propagate to the caller and are not logged. For tests and the command line.
   */
  runOnce(): Promise<number> {
    const run = this.tail.then(async () => {
      this.busy++;
      try {
        return (await this.pass()) ?? 0;
      } finally {
        this.busy--;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Runs passes until one handles nothing; returns the total handled. For tests and the command line. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      if (n === 0) return total;
      total += n;
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = undefined;
  }

  private schedule(ms: number, byNudge: boolean): void {
    this.clearTimer();
    this.due = { at: Date.now() + ms, byNudge };
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.due = undefined;
    this.firstNudgeAt = undefined;
    this.nudgedWhileRunning = false;
    if (!this.started) return;
    let handled = 0;
    let failed = false;
    this.looping = true;
    try {
      handled = await this.runOnce();
      this.failures = 0;
    } catch (err) {
      failed = true;
      this.failures++;
      this.logger.error({ err, job: this.name, failuresInARow: this.failures }, `${this.name} pass failed`);
    } finally {
      this.looping = false;
    }
    if (!this.started) return;
    if (failed) {
      this.schedule(Math.min(this.maxBackoffMs, this.pollMs * 2 ** (this.failures - 1)), false);
    } else {
      this.schedule(handled > 0 || this.nudgedWhileRunning ? 0 : this.pollMs, false);
    }
  }
}
