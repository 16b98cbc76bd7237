import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CoreContext } from '../../core/context.ts';
import type { Executor } from '../../db/database.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { RateLimiter } from '../../core/http/rate-limiter.ts';
import { findService } from '../../core/co-services/co-service.service.ts';
import type { PersonStatus } from '../../core/people/person.table.ts';
import { hashSecret, verifySecret, type PasswordScheme } from './crypto/password-schemes.ts';
import { displayHint, normalizeToken, type TokenType } from './crypto/token-types.ts';
import { SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import { serviceAcceptsTokensOf } from './service-token.service.ts';
import { findSetting, tokenDb, tokenTypeOfRow } from './token-setting.service.ts';
import type { AuthenticatedVerifier } from './verifier.service.ts';

export interface VerifyResult {
  valid: boolean;
  person: { id: string; identifier: string; status: PersonStatus; coId: string } | null;
  token: { id: string; expiresAt: string | null } | null;
}

const INVALID: VerifyResult = { valid: false, person: null, token: null };

export interface VerificationLimits {
  /** Failed attempts per (service, identifier) per minute. */
  failuresPerIdentifier: number;
  /** Failed attempts per client address per minute. */
  failuresPerAddress: number;
}

export const DEFAULT_VERIFICATION_LIMITS: VerificationLimits = { failuresPerIdentifier: 10, failuresPerAddress: 100 };

const LAST_USED_WRITE_MS = 60_000;
const RECENT_TTL_MS = 5 * 60_000;

/**
 * Remembers, for five minutes and in this process only, that a token was verified: an HMAC of it
 * under a random per-process key. Services present the same token again and again (every IMAP
 * login, every git fetch); a slow scheme such as argon2id is then paid once per five minutes, not
 * per call. Only a correct token can hit; a wrong one falls through to the full check, and the
 * token's row is still read on every call, so revocation, expiry and status apply at once.
 */
class RecentlyVerified {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { mac: Buffer; hash: string; until: number }>();

  private mac(token: string): Buffer {
    return createHmac('sha256', this.key).update(token).digest();
  }

  matches(tokenId: string, hash: string, token: string, now: number): boolean {
    const e = this.entries.get(tokenId);
    if (!e || e.until < now || e.hash !== hash) return false;
    return timingSafeEqual(e.mac, this.mac(token));
  }

  remember(tokenId: string, hash: string, token: string, now: number): void {
    if (this.entries.size > 100_000) for (const [id, e] of this.entries) if (e.until < now) this.entries.delete(id);
    this.entries.set(tokenId, { mac: this.mac(token), hash, until: now + RECENT_TTL_MS });
  }
}

/**
 * Keeps last-used times in memory and writes each token's at most once a minute, so verification
 * is not a database write per call. `flush` writes what is pending (on a timer and at shutdown).
 * Writes that fall due together (tokens first seen in the same turn of the event loop) go into
 * one transaction: on SQLite each commit waits for the disk, and a burst of new tokens would
 * otherwise cost one disk sync each, blocking the event loop every time.
 */
export class LastUsedRecorder {
  private readonly written = new Map<string, number>();
  private readonly pending = new Map<string, { at: string; address: string }>();
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(private readonly ctx: CoreContext) {}

  record(tokenId: string, at: Date, address: string): void {
    this.pending.set(tokenId, { at: at.toISOString(), address });
    const last = this.written.get(tokenId) ?? 0;
    if (at.getTime() - last >= LAST_USED_WRITE_MS && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
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
      const write = async (db: Executor) => {
        for (const [id, v] of due) {
          await tokenDb(db).updateTable('service_token').set({ last_used_at: v.at, last_used_address: v.address }).where('id', '=', id).execute();
        }
      };
      if (due.length === 1) await write(this.ctx.db);
      else await this.ctx.db.transaction().execute(write);
    }).catch((e) => console.error(JSON.stringify({ level: 50, msg: 'recording last use failed', err: String(e) })));
    return this.writing;
  }

  /** Writes everything pending, whenever it was last written (at shutdown). */
  async flushAll(): Promise<void> {
    this.written.clear();
    await this.flush();
  }
}

/**
 * Verifications under way, per rate-limit key. A failure is counted only once its check ends, so
 * without this, guesses sent at the same moment would all pass the limit before the first failure
 * is recorded. A verification starts only while the failures recorded plus those under way stay
 * within the limit; otherwise it waits for one under way to end, and is then let in or refused.
 * Correct tokens arriving together thus wait a moment at worst; they are never refused.
 */
class UnderWay {
  private readonly counts = new Map<string, number>();
  private waiting: Array<() => void> = [];

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  start(keys: string[]): void {
    for (const key of keys) this.counts.set(key, this.count(key) + 1);
  }

  end(keys: string[]): void {
    for (const key of keys) {
      const n = this.count(key) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  /** Resolves when any verification under way ends. */
  anEnd(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/**
 * Answers whether (identifier, token) is valid for the calling service. Every answer that is not
 * "valid" is the same, whether the person exists, has tokens, or typed a wrong one, and costs one
 * hash verification either way: the candidate token is found by its display hint (which a
 * checksummed token's last characters give) and, when there is none, a dummy hash of the service's
 * scheme is verified instead.
 */
export class TokenVerifier {
  private readonly byIdentifier: RateLimiter;
  private readonly byAddress: RateLimiter;
  private readonly dummies = new Map<PasswordScheme, Promise<string>>();
  private readonly recent = new RecentlyVerified();
  private readonly underWay = new UnderWay();
  /** Token types by their stored definition: parsing and checking one is pure, and costs more than the query. */
  private readonly types = new Map<string, TokenType | undefined>();
  readonly lastUsed: LastUsedRecorder;

  constructor(
    private readonly ctx: CoreContext,
    limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS,
  ) {
    const now = () => ctx.clock.now().getTime();
    this.byIdentifier = new RateLimiter(limits.failuresPerIdentifier, 60_000, now);
    this.byAddress = new RateLimiter(limits.failuresPerAddress, 60_000, now);
    this.lastUsed = new LastUsedRecorder(ctx);
  }

  private typeOf(row: { token_type_def: string }): TokenType | undefined {
    if (this.types.has(row.token_type_def)) return this.types.get(row.token_type_def);
    const type = tokenTypeOfRow(row);
    if (this.types.size >= 1000) this.types.clear();
    this.types.set(row.token_type_def, type);
    return type;
  }

  private dummyHash(scheme: PasswordScheme): Promise<string> {
    let dummy = this.dummies.get(scheme);
    if (!dummy) {
      dummy = hashSecret('tessera-dummy-token-for-timing', scheme);
      this.dummies.set(scheme, dummy);
    }
    return dummy;
  }

  async verify(caller: AuthenticatedVerifier, input: { identifier: string; token: string }, address: string): Promise<VerifyResult> {
    const identifierKey = `${caller.serviceId}\u0000${input.identifier.toLowerCase()}`;
    const keys = [`address\u0000${address}`, `identifier\u0000${identifierKey}`];
    for (;;) {
      const wait = Math.max(this.byAddress.check(address), this.byIdentifier.check(identifierKey));
      if (wait > 0) throw new AppError(SERVICE_TOKEN_ERRORS.VERIFY_RATE_LIMITED, { headers: { 'Retry-After': String(wait) } });
      if (this.underWay.count(keys[0]!) < this.byAddress.remaining(address) && this.underWay.count(keys[1]!) < this.byIdentifier.remaining(identifierKey)) break;
      await this.underWay.anEnd();
    }

    this.underWay.start(keys);
    try {
      const result = await this.check(caller, input);
      if (result.valid) {
        this.lastUsed.record(result.token!.id, this.ctx.clock.now(), address);
      } else {
        this.byAddress.hit(address);
        this.byIdentifier.hit(identifierKey);
      }
      return result;
    } finally {
      this.underWay.end(keys);
    }
  }

  private async check(caller: AuthenticatedVerifier, input: { identifier: string; token: string }): Promise<VerifyResult> {
    const db = tokenDb(this.ctx.db);
    const now = this.ctx.clock.now();
    const [service, setting] = await Promise.all([findService(this.ctx.db, caller.coId, caller.serviceId), findSetting(this.ctx.db, caller.coId, caller.serviceId)]);
    const scheme = setting.storageScheme;
    if (!service) return INVALID;
    // One query finds the person and their live tokens for this service: an unknown person, a
    // person without tokens and a person with tokens all run it alike, so every path costs the same.
    const rows = await db
      .selectFrom('identifier as i')
      .innerJoin('co_person as p', 'p.id', 'i.person_id')
      .innerJoin('service_token as t', (join) => join.onRef('t.person_id', '=', 'i.person_id').on('t.co_id', '=', caller.coId).on('t.service_id', '=', caller.serviceId))
      .select(['t.id', 't.hash', 't.token_type_def', 't.display_hint', 't.expires_at', 'p.id as person_id', 'p.status as person_status', 'i.identifier'])
      .where('i.co_id', '=', caller.coId)
      .where('i.type', '=', service.identifierType)
      .where('i.identifier', '=', input.identifier)
      .where('i.status', '=', 'active')
      .where('t.revoked_at', 'is', null)
      .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now.toISOString())]))
      .execute();
    const candidates = rows.filter((r) => {
      const type = this.typeOf(r);
      const canonical = type ? normalizeToken(type, input.token) : null;
      return type && canonical !== null && displayHint(type, canonical) === r.display_hint;
    });
    let match: (typeof rows)[number] | undefined;
    if (candidates.length === 0) {
      await verifySecret(input.token, await this.dummyHash(scheme));
    } else {
      const t = now.getTime();
      for (const c of candidates) {
        const canonical = normalizeToken(this.typeOf(c)!, input.token)!;
        if (this.recent.matches(c.id, c.hash, canonical, t) || (await verifySecret(canonical, c.hash))) {
          this.recent.remember(c.id, c.hash, canonical, t);
          match = c;
        }
      }
    }
    if (!match) return INVALID;
    const person = { id: match.person_id, status: match.person_status };
    if (!(await serviceAcceptsTokensOf(this.ctx.db, service, setting, person, now))) return INVALID;
    return {
      valid: true,
      person: { id: person.id, identifier: match.identifier, status: person.status, coId: caller.coId },
      token: { id: match.id, expiresAt: match.expires_at },
    };
  }
}
