import type { CoService } from '../../../core/co-services/co-service.service.ts';
import { findService } from '../../../core/co-services/co-service.repository.ts';
import { MIN_ENTROPY_BITS_UNGUESSABLE, type TokenType } from '../formats/token-types.ts';
import { findSetting, type TokenSetting } from '../settings/token-setting.repository.ts';
import { tokenTypeOf } from '../settings/token-setting.service.ts';
import type { TokenDb } from '../token-context.ts';
import { findVerifierKey, type VerifierKeyRecord } from './verification-key.repository.ts';

/** A service as verification needs it, read once: the service, its token setting and what follows from them. */
export interface CachedService {
  service: CoService | undefined;
  setting: TokenSetting;
  /** The setting's token type (undefined: none usable). */
  type: TokenType | undefined;
  /** Whether that type cannot be guessed online (MIN_ENTROPY_BITS_UNGUESSABLE once the display hint is known). */
  unguessable: boolean;
}

/** Thrown by a check that found the cache older than the database; the caller starts the call again. */
export class StaleCache extends Error {
  constructor() {
    super('the verification cache was stale');
  }
}

/**
 * This process's copy of what verification reads on every call but rarely changes: CO services,
 * their token settings and verification keys. Nothing is cached by time. The database keeps a
 * version number (`service_token_cache_version`) that triggers increment in the transaction of
 * every change of those rows, by any process on any host; every verification lookup reads it in
 * the same statement as the token (`findCandidates`), and a version other than the one this
 * cache was filled under (`epoch`) empties the cache and makes the call start again from the
 * database. So a change committed before a call's lookup applies to that call, on every process;
 * on PostgreSQL this needs no LISTEN connection, and works the same on SQLite.
 *
 * Soundness: entries are loaded after the version they are filed under was read, so they are at
 * least that new; a change after they were loaded raises the version past it, which the next
 * lookup sees. A load that began before a reset is not kept (`generation`).
 */
export class VerificationCache {
  /** '' until the first lookup: never a version, so the first call always starts again. */
  private versionSeen = '';
  private generation = 0;
  private services = new Map<string, Promise<CachedService>>();
  private keys = new Map<string, Promise<VerifierKeyRecord | undefined>>();

  constructor(private readonly db: TokenDb) {}

  /** The version the current entries are valid for ('' before the first lookup). */
  get epoch(): string {
    return this.versionSeen;
  }

  /**
   * Compares the version a lookup read with `epoch` (the one the caller's entries were taken
   * under). True when they agree; otherwise empties the cache (once per new version) and answers
   * false: the caller must start again.
   */
  confirm(epoch: string, version: string): boolean {
    if (epoch === version) return true;
    // A lookup that read an older version than one already seen is only retried.
    if (this.versionSeen === '' || BigInt(version) > BigInt(this.versionSeen)) {
      this.versionSeen = version;
      this.generation++;
      this.services = new Map();
      this.keys = new Map();
    }
    return false;
  }

  private remember<V>(map: () => Map<string, Promise<V>>, key: string, load: () => Promise<V>): Promise<V> {
    const found = map().get(key);
    if (found) return found;
    const generation = this.generation;
    const target = map();
    if (target.size >= 10_000) target.clear();
    const loading = load();
    target.set(key, loading);
    loading.then(
      () => {
        if (generation !== this.generation) target.delete(key);
      },
      () => target.delete(key),
    );
    return loading;
  }

  /** The service of the CO (undefined: none) with its token setting. */
  service(coId: string, serviceId: string): Promise<CachedService> {
    return this.remember(() => this.services, `${coId}\u0000${serviceId}`, async () => {
      const [service, setting] = await Promise.all([findService(this.db, coId, serviceId), findSetting(this.db, coId, serviceId)]);
      const type = tokenTypeOf(setting);
      return { service, setting, type, unguessable: type !== undefined && type.effectiveEntropyBits >= MIN_ENTROPY_BITS_UNGUESSABLE };
    });
  }

  /** The verification key with this id, revoked or not (undefined: none). */
  key(id: string): Promise<VerifierKeyRecord | undefined> {
    return this.remember(() => this.keys, id, () => findVerifierKey(this.db, id));
  }
}
