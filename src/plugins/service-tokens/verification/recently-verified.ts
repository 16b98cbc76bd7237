import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const RECENT_TTL_MS = 5 * 60_000;

/**
 * Remembers, for five minutes and in this process only, that a token was verified: an HMAC of it
 * under a random per-process key. Services present the same token again and again (every IMAP
 * login, every git fetch); a slow scheme such as argon2id is then paid once per five minutes, not
 * per call. Only a correct token can hit; a wrong one falls through to the full check. The entry
 * holds the token's stored hash, and the token's row is read from the database on every call, so
 * a revocation, expiry or status change made by any process (any host) applies at once: the
 * database is what shares the invalidation, this memory only saves the hash computation.
 */
export class RecentlyVerified {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { mac: Buffer; hash: string; until: number }>();

  private mac(token: string): Buffer {
    return createHmac('sha256', this.key).update(token).digest();
  }

  /** Whether `token` was verified against `hash` (the row's current hash) within five minutes of `now` (ms). */
  matches(tokenId: string, hash: string, token: string, now: number): boolean {
    const e = this.entries.get(tokenId);
    if (!e || e.until < now || e.hash !== hash) return false;
    return timingSafeEqual(e.mac, this.mac(token));
  }

  /** Remembers a successful check of `token` against `hash` at `now` (ms). */
  remember(tokenId: string, hash: string, token: string, now: number): void {
    if (this.entries.size > 100_000) for (const [id, e] of this.entries) if (e.until < now) this.entries.delete(id);
    this.entries.set(tokenId, { mac: this.mac(token), hash, until: now + RECENT_TTL_MS });
  }
}
