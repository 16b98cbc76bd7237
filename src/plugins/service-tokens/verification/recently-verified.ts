import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const RECENT_TTL_MS = 5 * 60_000;

/**
 * Remembers, for five minutes and in this process only, that a token was verified: a keyed hash of it (`mac`)
 * under a random per-process key. Services present the same token again and again (every IMAP
 * login, every git fetch); a slow scheme such as argon2id is then paid once per five minutes, not
 * per call. Only a correct token can hit; a wrong one falls through to the full check. The entry
 * holds the token's stored hash, and the token's row is read from the database on every call, so
 * a revocation, expiry or status change made by any process (any host) applies at once: the
 * database is what shares the invalidation, this memory only saves the hash computation.
 */
export class RecentlyVerified {
  /** Two random per-process keys, hex: the inner and the outer key of `mac`. */
  private readonly inner = randomBytes(32).toString('hex');
  private readonly outer = randomBytes(32).toString('hex');
  private readonly entries = new Map<string, { readonly mac: Buffer; readonly hash: string; until: number }>();

  /**
   * A keyed SHA-256 of the token: SHA-256(outer ‖ SHA-256(inner ‖ token)), each key 64 bytes
   * (64 hex characters: one SHA-256 block), which is NMAC, the construction HMAC derives its two
   * keys for (Bellare, Canetti, Krawczyk 1996); no length extension reaches the outer hash. Node's
   * one-shot `hash` makes it about 0.5 µs a call where createHmac cost about 1.9 µs, on every
   * verification. The keys are random per process and never leave it; the value is only compared
   * (timingSafeEqual) with one this process made.
   */
  private mac(token: string): Buffer {
    return hash('sha256', this.outer + hash('sha256', this.inner + token, 'hex'), 'buffer');
  }

  /**
   * Whether `token` was verified against `hash` (the row's current hash) within five minutes of
   * `now` (ms); a match counts as a new successful check (the five minutes start again), as
   * `remember` would, without computing the keyed hash a second time.
   */
  matches(tokenId: string, hash: string, token: string, now: number): boolean {
    const e = this.entries.get(tokenId);
    if (!e || e.until < now || e.hash !== hash) return false;
    if (!timingSafeEqual(e.mac, this.mac(token))) return false;
    e.until = now + RECENT_TTL_MS;
    return true;
  }

  /** Remembers a successful check of `token` against `hash` at `now` (ms). */
  remember(tokenId: string, hash: string, token: string, now: number): void {
    if (this.entries.size > 100_000) for (const [id, e] of this.entries) if (e.until < now) this.entries.delete(id);
    this.entries.set(tokenId, { mac: this.mac(token), hash, until: now + RECENT_TTL_MS });
  }
}
