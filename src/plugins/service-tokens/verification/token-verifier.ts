import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { findService } from '../../../core/co-services/co-service.repository.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { RateLimiter } from '../../../core/http/rate-limiter.ts';
import { identifierKey as identifierMatchKey } from '../../../core/text.ts';
import type { Logger } from '../../../core/logging/logger.ts';
import type { PersonStatus } from '../../../core/people/person.table.ts';
import { displayHint, MIN_ENTROPY_BITS_UNGUESSABLE, normalizeToken, tokenTypeFromDefinition, type TokenType } from '../formats/token-types.ts';
import { tokenTypeOf } from '../settings/token-setting.service.ts';
import { hashSecret, verifySecret, type PasswordScheme } from '../hashing/password-schemes.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import { findSetting } from '../settings/token-setting.repository.ts';
import type { TokenContext } from '../token-context.ts';
import { liveTokensByIdentifier, type VerificationCandidate } from '../tokens/service-token.repository.ts';
import { refusalFor } from '../tokens/usable-token.ts';
import { LastUsedRecorder } from './last-used-recorder.ts';
import type { AuthenticatedVerifier } from './verification-keys.service.ts';

/** The answer to a service: whether the token is valid for it, and if so whose it is. */
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

  /** `logger` hears of last-use writes that failed (verification itself never waits for them). */
  constructor(
    private readonly ctx: TokenContext,
    limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS,
    logger: Logger = ctx.logger,
  ) {
    const now = () => ctx.clock.now().getTime();
    this.byIdentifier = new RateLimiter(limits.failuresPerIdentifier, 60_000, now);
    this.byAddress = new RateLimiter(limits.failuresPerAddress, 60_000, now);
    this.lastUsed = new LastUsedRecorder(ctx, logger);
  }

  private typeOf(candidate: { tokenTypeDef: string }): TokenType | undefined {
    const def = candidate.tokenTypeDef;
    if (this.types.has(def)) return this.types.get(def);
    const type = tokenTypeFromDefinition(def);
    if (this.types.size >= 1000) this.types.clear();
    this.types.set(def, type);
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

  /**
   * Whether the service's token type cannot be guessed online (at least
   * MIN_ENTROPY_BITS_UNGUESSABLE bits once the display hint is known). Such tokens are checked
   * before any limit, so a correct one is never refused because someone else failed; limits then
   * only slow down failures. Weaker types keep the limits before the check, per identifier too.
   */
  private async unguessable(caller: AuthenticatedVerifier): Promise<boolean> {
    const type = tokenTypeOf(await findSetting(this.ctx.db, caller.coId, caller.serviceId));
    return type !== undefined && type.effectiveEntropyBits >= MIN_ENTROPY_BITS_UNGUESSABLE;
  }

  /**
   * Verifies (identifier, token) for the calling service. `address` is the end user's address
   * when the service passed it (`clientAddress`), else the service's own; per-address limits key
   * on it. Every call costs one hash check. Throws VERIFY_RATE_LIMITED (429, Retry-After) when
   * a limit refuses the attempt: for unguessable types only a failing attempt from an address
   * over its limit; for others also before the check, per address and per (service, identifier).
   */
  async verify(caller: AuthenticatedVerifier, input: { identifier: string; token: string }, address: string): Promise<VerifyResult> {
    if (await this.unguessable(caller)) {
      const result = await this.check(caller, input);
      if (result.valid) {
        this.lastUsed.record(result.token!.id, this.ctx.clock.now(), address);
        return result;
      }
      const wait = this.byAddress.check(address);
      if (wait > 0) throw new AppError(SERVICE_TOKEN_ERRORS.VERIFY_RATE_LIMITED, { headers: { 'Retry-After': String(wait) } });
      this.byAddress.hit(address);
      return result;
    }

    const identifierKey = `${caller.serviceId}\u0000${identifierMatchKey('uid', input.identifier)}`;
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

  /**
   * One verification: the candidates are the person's live tokens for the service whose display
   * hint the presented token gives; then the usable-token rule decides (`refusalFor`).
   */
  private async check(caller: AuthenticatedVerifier, input: { identifier: string; token: string }): Promise<VerifyResult> {
    const now = this.ctx.clock.now();
    const [service, setting] = await Promise.all([findService(this.ctx.db, caller.coId, caller.serviceId), findSetting(this.ctx.db, caller.coId, caller.serviceId)]);
    const scheme = setting.storageScheme;
    if (!service) return INVALID;
    const rows = await liveTokensByIdentifier(this.ctx.db, { coId: caller.coId, serviceId: caller.serviceId, identifierType: service.identifierType, identifier: input.identifier }, now);
    const candidates = rows.filter((r) => {
      const type = this.typeOf(r);
      const canonical = type ? normalizeToken(type, input.token) : null;
      return type && canonical !== null && displayHint(type, canonical) === r.displayHint;
    });
    let match: VerificationCandidate | undefined;
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
    const person = { id: match.personId, status: match.personStatus };
    if (await refusalFor(this.ctx.db, service, setting, person, now)) return INVALID;
    return {
      valid: true,
      person: { id: person.id, identifier: match.identifier, status: person.status, coId: caller.coId },
      token: { id: match.id, expiresAt: match.expiresAt },
    };
  }
}
