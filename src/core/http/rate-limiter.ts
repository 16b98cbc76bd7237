/**
 * Counts attempts per key in a sliding window kept in memory (per process). Used for sign-in and
 * token verification; a hit answers 429 with Retry-After.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an attempt; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const wait = this.check(key);
    if (wait === 0) this.hit(key);
    return wait;
  }

  /** The seconds to wait before the key may try again (0: now), without recording anything. */
  check(key: string): number {
    const t = this.now();
    const recent = (this.hits.get(key) ?? []).filter((x) => x > t - this.windowMs);
    if (recent.length === 0) {
      this.hits.delete(key);
      return 0;
    }
    this.hits.set(key, recent);
    return recent.length >= this.limit ? Math.max(1, Math.ceil((recent[recent.length - this.limit]! + this.windowMs - t) / 1000)) : 0;
  }

  /** Attempts the key may still make in the window now (0 when it must wait). */
  remaining(key: string): number {
    const t = this.now();
    const recent = (this.hits.get(key) ?? []).filter((x) => x > t - this.windowMs).length;
    return Math.max(0, this.limit - recent);
  }

  /** Records one attempt (for limits that count only failures). */
  hit(key: string): void {
    const t = this.now();
    const recent = this.hits.get(key) ?? [];
    recent.push(t);
    this.hits.set(key, recent);
    if (this.hits.size > 100_000) this.prune(t);
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private prune(t: number): void {
    for (const [k, v] of this.hits) if (!v.some((x) => x > t - this.windowMs)) this.hits.delete(k);
  }
}
