import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isId, newId } from '../../../db/ids.ts';
import { isCoAdmin, type Actor } from '../../../core/auth/actor.ts';
import { type CoService } from '../../../core/co-services/co-service.service.ts';
import { findService } from '../../../core/co-services/co-service.repository.ts';
import { lockCo } from '../../../core/cos/co.repository.ts';
import { AppError, assertThat } from '../../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../../core/errors/error-codes.ts';
import { recordHistory } from '../../../core/history/history.service.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { TokenContext } from '../token-context.ts';
import {
  findVerifierKey,
  findVerifierKeyOfService,
  insertVerifierKey,
  markVerifierKeyRevoked,
  toVerifierKey,
  verifierKeysOfService,
  type VerifierKey,
  type VerifierKeyRecord,
} from './verification-key.repository.ts';
import { inTransaction } from '../../../db/transaction.ts';

export type { VerifierKey } from './verification-key.repository.ts';

/** The key is `tsv_<verifier id without dashes>_<secret>`: the id finds the row, the secret proves it. */
const KEY_PATTERN = /^tsv_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function idFromHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Creates a verification key for a service of the CO (CO admins). The key (256 random bits) is
 * returned once; only its SHA-256 is kept. Returns the key's record, the key and its service.
 * SERVICE_NOT_FOUND (404) for a service not of the CO.
 */
export async function createVerifierKey(ctx: TokenContext, actor: Actor, coId: string, serviceId: string, label: string): Promise<{ verifier: VerifierKey; key: string; service: CoService }> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    const service = await findService(trx, coId, serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    const id = newId();
    const key = `tsv_${id.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`;
    const record = await insertVerifierKey(trx, {
      id,
      co_id: coId,
      service_id: serviceId,
      label,
      key_hash: hashKey(key),
      created_by_label: actor.label,
      created_at: ctx.clock.now().toISOString(),
      revoked_at: null,
    });
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId, action: 'VERIFIER_KEY_CREATED', comment: `Verification key "${label}" created for service ${service.name}` });
    return { verifier: toVerifierKey(record), key, service };
  });
}

/**
 * The service's verification keys, revoked ones included, newest first (CO admins).
 * SERVICE_NOT_FOUND (404) for a service not of the CO, like every other operation on its keys.
 */
export async function listVerifierKeys(ctx: TokenContext, actor: Actor, coId: string, serviceId: string): Promise<VerifierKey[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  if (!(await findService(ctx.db, coId, serviceId))) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
  return (await verifierKeysOfService(ctx.db, coId, serviceId)).map(toVerifierKey);
}

/** Revokes a key of the service (CO admins); VERIFIER_NOT_FOUND (404) for an unknown or revoked key. */
export async function revokeVerifierKey(ctx: TokenContext, actor: Actor, coId: string, serviceId: string, verifierId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'shared');
    const key = isId(verifierId) ? await findVerifierKeyOfService(trx, coId, serviceId, verifierId) : undefined;
    if (!key || key.revokedAt) throw new AppError(SERVICE_TOKEN_ERRORS.VERIFIER_NOT_FOUND);
    await markVerifierKeyRevoked(trx, verifierId, ctx.clock.now().toISOString());
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId, action: 'VERIFIER_KEY_REVOKED', comment: `Verification key "${key.label}" revoked` });
  });
}

/** The service a verification call comes from. */
export interface AuthenticatedVerifier {
  verifierId: string;
  coId: string;
  serviceId: string;
}

/**
 * Checks `Authorization: Bearer tsv_…`. Keys are cached for a few seconds, so a busy service does
 * not cost a query per call; a revoked key stops working within that time. An unknown id costs
 * the same comparison as a known one.
 */
export class VerifierAuthenticator {
  private readonly cache = new Map<string, { key: VerifierKeyRecord | undefined; until: number }>();
  private static readonly TTL_MS = 5000;
  private static readonly DUMMY = Buffer.from(hashKey('no such key'));

  constructor(private readonly ctx: TokenContext) {}

  async authenticate(header: string | undefined): Promise<AuthenticatedVerifier | undefined> {
    return this.authenticateKey(header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined);
  }

  /** Checks a bare `tsv_…` key (as forward authentication receives it in its own header). */
  async authenticateKey(key: string | undefined): Promise<AuthenticatedVerifier | undefined> {
    const m = key ? KEY_PATTERN.exec(key) : null;
    if (!key || !m) return undefined;
    const id = idFromHex(m[1]!);
    const now = this.ctx.clock.now().getTime();
    let entry = this.cache.get(id);
    if (!entry || entry.until < now) {
      entry = { key: await findVerifierKey(this.ctx.db, id), until: now + VerifierAuthenticator.TTL_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, entry);
    }
    const expected = entry.key ? Buffer.from(entry.key.keyHash) : VerifierAuthenticator.DUMMY;
    const match = timingSafeEqual(expected, Buffer.from(hashKey(key)));
    if (!entry.key || !match || entry.key.revokedAt) return undefined;
    return { verifierId: entry.key.id, coId: entry.key.coId, serviceId: entry.key.serviceId };
  }
}
