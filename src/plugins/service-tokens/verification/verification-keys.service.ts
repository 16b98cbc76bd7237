import { randomBytes } from 'node:crypto';
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
  findVerifierKeyOfService,
  insertVerifierKey,
  markVerifierKeyRevoked,
  toVerifierKey,
  verifierKeysOfService,
  type VerifierKey,
} from './verification-key.repository.ts';
import { inTransaction } from '../../../db/transaction.ts';
import { hashVerifierKey } from './verifier-key-hash.ts';

export type { VerifierKey } from './verification-key.repository.ts';

const hashKey = hashVerifierKey;

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
  /** The verification cache's version the key was read under (TokenVerifier.authenticateKey); undefined: not checked. */
  epoch?: string | undefined;
}
