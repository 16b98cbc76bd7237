import { timingSafeEqual } from 'node:crypto';
import { clientBucket } from '../../../core/http/client-bucket.ts';
import { ConcurrencyLimit } from '../../../core/http/concurrency-limit.ts';
import { personMayUseService } from '../../../core/co-services/co-service.service.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { identifierKey as identifierMatchKey } from '../../../core/text.ts';
import type { Logger } from '../../../core/logging/logger.ts';
import type { PersonStatus } from '../../../core/people/person.table.ts';
import { displayHint, MIN_ENTROPY_BITS_UNGUESSABLE, normalizeToken, tokenTypeFromDefinition, type TokenType } from '../formats/token-types.ts';
import { hashSecret, isSlowScheme, schemeOf, verifySecret, type PasswordScheme } from '../hashing/password-schemes.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { TokenContext } from '../token-context.ts';
import { refusalOf } from '../tokens/usable-token.ts';
import { findCandidates, type Candidate } from './candidate-lookup.ts';
import { DatabaseFailureLimits, MemoryFailureLimits, type FailureLimits, type LimitKey } from './failure-limits.ts';
import { LastUsedRecorder } from './last-used-recorder.ts';
import { RecentlyVerified } from './recently-verified.ts';
import { StaleCache, VerificationCache, type CachedService } from './verification-cache.ts';
import type { AuthenticatedVerifier } from './verification-keys.service.ts';
import { hashVerifierKey, VERIFIER_KEY_PATTERN } from './verifier-key-hash.ts';

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
  /** Slow-scheme (argon2id) checks at once per process, and how many may wait (default: libuv's thread pool size, and 64). */
  slowChecks?: { concurrent: number; queued: number };
}

export const DEFAULT_VERIFICATION_LIMITS: VerificationLimits = { failuresPerIdentifier: 10, failuresPerAddress: 100 };


const DUMMY_KEY_HASH = Buffer.from(hashVerifierKey('no such key'));
/**
 * Hash checks of a slow scheme (argon2id: tens of milliseconds and 19 MiB each) run a few at a
 * time per process, with a bounded queue: a flood of verifications (forward authentication lets
 * anonymous end users send them) cannot take the server's CPU and memory. Beyond the queue:
 * VERIFY_BUSY. Fast schemes are not queued.
 */
const SLOW_CHECKS_QUEUED = 64;
/**
 * Slow checks at once: as many as libuv's thread pool runs (argon2 hashes there; UV_THREADPOOL_SIZE,
 * 4 by default), so the cap bounds the queue without leaving a thread of the pool idle.
 */
const SLOW_CHECKS_AT_ONCE = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);

/** What the lookup of one verification found (see TokenVerifier.lookup). */
interface Lookup {
  now: Date;
  token: string;
  service: CachedService['service'];
  setting: CachedService['setting'];
  coSuspended: boolean;
  /** The person's live tokens for the service, each with its type; `canonical` is the presented token in that type when its display hint matches, else null. */
  candidates: Array<{ c: Candidate; type: TokenType; canonical: string | null }>;
}
/** How often a call starts again because the cache was stale before it answers from the database anyway. */
const STALE_RETRIES = 3;

/**
 * Answers whether (identifier, token) is valid for the calling service. Every answer that is not
 * "valid" is the same, whether the person exists, has tokens, or typed a wrong one, and costs one
 * hash verification either way: the candidate token is found by its display hint (which a
 * checksummed token's last characters give) and, when there is none, a dummy hash of the service's
 * scheme is verified instead.
 *
 * Per call: one statement (`findCandidates`: the token with its person, CO status and the cache
 * version), plus the person's groups only for services gated by a group or visibility. Services,
 * settings and verification keys come from `VerificationCache`. Failure limits are counted in
 * memory, or on PostgreSQL in the database, shared by every process (`failure-limits.ts`).
 */
export class TokenVerifier {
  private readonly limits: FailureLimits;
  private readonly dummies = new Map<PasswordScheme, Promise<string>>();
  private readonly recent = new RecentlyVerified();
  private readonly slowChecks: ConcurrencyLimit;
  readonly cache: VerificationCache;
  /** Token types by their stored definition: parsing and checking one is pure, and costs more than the query. */
  private readonly types = new Map<string, TokenType | undefined>();
  readonly lastUsed: LastUsedRecorder;

  /** `logger` hears of last-use writes that failed (verification itself never waits for them). */
  constructor(
    private readonly ctx: TokenContext,
    limits: VerificationLimits = DEFAULT_VERIFICATION_LIMITS,
    logger: Logger = ctx.logger,
  ) {
    const byKind = { address: limits.failuresPerAddress, identifier: limits.failuresPerIdentifier };
    this.limits = ctx.dialect === 'postgres' ? new DatabaseFailureLimits(ctx.db, byKind, ctx.clock) : new MemoryFailureLimits(byKind, () => ctx.clock.now().getTime());
    this.slowChecks = new ConcurrencyLimit(limits.slowChecks?.concurrent ?? SLOW_CHECKS_AT_ONCE, limits.slowChecks?.queued ?? SLOW_CHECKS_QUEUED);
    this.cache = new VerificationCache(ctx.db);
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
   * Checks a bare verification key (`tsv_…`) against the cached keys: the service it belongs to,
   * or undefined for a malformed, unknown or revoked key. An unknown id costs the same comparison
   * as a known one. The answer carries the cache epoch it was read under, so `verify` starts again
   * if a key was revoked since (`StaleCache`).
   */
  async authenticateKey(key: string | undefined): Promise<AuthenticatedVerifier | undefined> {
    const m = key ? VERIFIER_KEY_PATTERN.exec(key) : null;
    if (!key || !m) return undefined;
    const epoch = this.cache.epoch;
    const hex = m[1]!;
    const record = await this.cache.key(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
    const match = timingSafeEqual(record ? Buffer.from(record.keyHash) : DUMMY_KEY_HASH, Buffer.from(hashVerifierKey(key)));
    if (!record || !match || record.revokedAt) return undefined;
    return { verifierId: record.id, coId: record.coId, serviceId: record.serviceId, epoch };
  }

  /**
   * Authenticates the service's key and verifies (identifier, token) for it, starting again when
   * the lookup finds the cache stale (so a key revoked, or a service changed, on another process
   * applies to this call). Undefined when the key does not authenticate; otherwise as `verify`.
   */
  async authenticateAndVerify(key: string | undefined, input: { identifier: string; token: string }, address: string): Promise<{ caller: AuthenticatedVerifier; result: VerifyResult } | undefined> {
    for (let attempt = 0; ; attempt++) {
      const caller = await this.authenticateKey(key);
      if (!caller) return undefined;
      try {
        return { caller, result: await this.verify(attempt < STALE_RETRIES ? caller : { ...caller, epoch: undefined }, input, address) };
      } catch (error) {
        if (!(error instanceof StaleCache)) throw error;
      }
    }
  }

  /**
   * Verifies (identifier, token) for the calling service. `address` is the end user's address
   * when the service passed it (`clientAddress`), else the service's own; per-address limits key
   * on its bucket (`clientBucket`: an IPv6 address counts as its /64). One indexed lookup, then at
   * most one hash check per candidate whose display hint the token gives (a dummy check when none
   * does). Throws VERIFY_RATE_LIMITED (429, Retry-After) when a limit refuses the attempt: when
   * every live token of the person for the service, and the service's own type, is unguessable,
   * only a failing attempt from an address over its limit; otherwise (a type under 100 bits, e.g.
   * an imported legacy token still live after the service moved to another type) also before
   * the hash check, per address and per (service, identifier). Slow schemes (argon2id) are checked
   * a few at a time per process; beyond its queue, VERIFY_BUSY (503, Retry-After).
   * Throws StaleCache when the cache was older than the database (call again: it is now empty);
   * a caller whose `epoch` is undefined skips that test (answers from what the lookup read).
   */
  async verify(caller: AuthenticatedVerifier, input: { identifier: string; token: string }, address: string): Promise<VerifyResult> {
    const epoch = caller.epoch;
    const cached = await this.cache.service(caller.coId, caller.serviceId);
    const limited = (wait: number) => new AppError(SERVICE_TOKEN_ERRORS.VERIFY_RATE_LIMITED, { headers: { 'Retry-After': String(wait) } });
    const addressKey: LimitKey = { kind: 'address', key: clientBucket(address) };
    const lookup = await this.lookup(caller, epoch, input);
    const guessable = !cached.unguessable || lookup.candidates.some(({ type }) => type.effectiveEntropyBits < MIN_ENTROPY_BITS_UNGUESSABLE);
    if (!guessable) {
      const result = await this.check(caller, lookup);
      if (result.valid) {
        this.lastUsed.record(result.token!.id, this.ctx.clock.now(), address);
        return result;
      }
      const wait = await this.limits.fail(addressKey);
      if (wait > 0) throw limited(wait);
      return result;
    }

    const identifierKey: LimitKey = { kind: 'identifier', key: `${caller.serviceId}\u0000${identifierMatchKey('uid', input.identifier)}` };
    const admission = await this.limits.admit([addressKey, identifierKey]);
    if (typeof admission === 'number') throw limited(admission);
    let failed = false;
    try {
      const result = await this.check(caller, lookup);
      if (result.valid) this.lastUsed.record(result.token!.id, this.ctx.clock.now(), address);
      else failed = true;
      return result;
    } finally {
      await admission.settle(failed);
    }
  }

  /**
   * The lookup of one verification: the person's live tokens for the service (candidate-lookup.ts),
   * each with its type and the presented token in that type, marked when their display hint is the
   * one the presented token gives. Throws StaleCache as `verify` says.
   */
  private async lookup(caller: AuthenticatedVerifier, epoch: string | undefined, input: { identifier: string; token: string }): Promise<Lookup> {
    const now = this.ctx.clock.now();
    const { service, setting } = await this.cache.service(caller.coId, caller.serviceId);
    if (!service) {
      // Nothing to look up; the version still decides whether "no such service" is current.
      const { version } = await findCandidates(this.ctx.db, { coId: caller.coId, serviceId: caller.serviceId, identifierType: '', identifier: '' }, now);
      if (epoch !== undefined && !this.cache.confirm(epoch, version)) throw new StaleCache();
      return { now, token: input.token, service, setting, coSuspended: false, candidates: [] };
    }
    const found = await findCandidates(this.ctx.db, { coId: caller.coId, serviceId: caller.serviceId, identifierType: service.identifierType, identifier: input.identifier }, now);
    if (epoch !== undefined && !this.cache.confirm(epoch, found.version)) throw new StaleCache();
    // The presented token in each candidate's type (candidates mostly share one), and those whose hint it gives.
    const candidates: Lookup['candidates'] = [];
    let lastType: TokenType | undefined;
    let lastCanonical: string | null = null;
    let lastHint = '';
    for (const r of found.candidates) {
      const type = this.typeOf(r);
      if (!type) continue;
      if (type !== lastType) {
        lastType = type;
        lastCanonical = normalizeToken(type, input.token);
        lastHint = lastCanonical === null ? '' : displayHint(type, lastCanonical);
      }
      candidates.push({ c: r, type, canonical: lastCanonical !== null && lastHint === r.displayHint ? lastCanonical : null });
    }
    return { now, token: input.token, service, setting, coSuspended: found.coSuspended, candidates };
  }

  /**
   * The hash checks and the usable-token rule (`refusalOf`, with the core's group rule
   * `personMayUseService`) for what `lookup` found.
   */
  private async check(caller: AuthenticatedVerifier, lookup: Lookup): Promise<VerifyResult> {
    const { now, service, setting } = lookup;
    if (!service) return INVALID;
    const candidates = lookup.candidates.filter((x): x is { c: Candidate; type: TokenType; canonical: string } => x.canonical !== null);
    const hashChecks = async (): Promise<Candidate | undefined> => {
      let match: Candidate | undefined;
      if (candidates.length === 0) {
        await verifySecret(lookup.token, await this.dummyHash(setting.storageScheme));
      } else {
        const t = now.getTime();
        for (const { c, canonical } of candidates) {
          if (this.recent.matches(c.id, c.hash, canonical, t)) match = c;
          else if (await verifySecret(canonical, c.hash)) {
            this.recent.remember(c.id, c.hash, canonical, t);
            match = c;
          }
        }
      }
      return match;
    };
    const slow = candidates.length === 0 ? isSlowScheme(setting.storageScheme) : candidates.some(({ c }) => { const scheme = schemeOf(c.hash); return scheme !== null && isSlowScheme(scheme); });
    let match: Candidate | undefined;
    if (!slow) match = await hashChecks();
    else {
      const checked = await this.slowChecks.run(async () => ({ match: await hashChecks() }));
      if (!checked) throw new AppError(SERVICE_TOKEN_ERRORS.VERIFY_BUSY, { headers: { 'Retry-After': '1' } });
      match = checked.match;
    }
    if (!match) return INVALID;
    const person = { id: match.personId, status: match.personStatus };
    if (refusalOf(setting, service, true, lookup.coSuspended) ?? refusalOf(setting, service, await personMayUseService(this.ctx.db, service, person, now))) return INVALID;
    return {
      valid: true,
      person: { id: person.id, identifier: match.identifier, status: person.status, coId: caller.coId },
      token: { id: match.id, expiresAt: match.expiresAt },
    };
  }
}
