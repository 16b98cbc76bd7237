import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import type { ApiUserInput } from './api-user.schema.ts';
import { findApiUser, findApiUserByKeyHash, insertApiUser, listApiUsersOfCo, updateApiUserStatus, type ApiUser } from './api-user.repository.ts';
import { inTransaction } from '../../db/transaction.ts';

export type { ApiUser } from './api-user.repository.ts';

// API keys are 256 random bits, so a fast hash is enough (no dictionary to try) and keeps every
// API request cheap; passwords that people choose are argon2id-hashed instead.
function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * Creates an API user (CO admins who are people, never another API user) and returns it with its
 * key, `tsk_` + 256 random bits, shown this once: only its hash is stored. Errors: CO_NOT_FOUND,
 * API_USERNAME_TAKEN (409, field `username`).
 */
export async function createApiUser(ctx: CoreContext, actor: Actor, coId: string, input: ApiUserInput): Promise<{ apiUser: ApiUser; key: string }> {
  assertThat(isCoAdmin(actor, coId) && actor.kind !== 'api', CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    await getCo(trx, coId);
    const key = `tsk_${randomBytes(32).toString('base64url')}`;
    const apiUser = await insertApiUser(trx, {
      id: newId(),
      co_id: coId,
      username: input.username,
      key_hash: hashKey(key),
      privileged: input.privileged ? 1 : 0,
      status: 'active',
      valid_from: input.validFrom ?? null,
      valid_through: input.validThrough ?? null,
      allowed_addresses: input.allowedAddresses,
      created_at: ctx.clock.now().toISOString(),
    });
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'API_USER_CREATED', comment: `API user ${input.username} created${input.privileged ? ' (privileged)' : ''}` });
    return { apiUser, key };
  });
}

/** The CO's API users by username, for CO admins who are people; FORBIDDEN otherwise. */
export async function listApiUsers(ctx: CoreContext, actor: Actor, coId: string): Promise<ApiUser[]> {
  assertThat(isCoAdmin(actor, coId) && actor.kind !== 'api', CORE_ERRORS.FORBIDDEN);
  return listApiUsersOfCo(ctx.db, coId);
}

/** Suspends or reactivates an API user (CO admins who are people); API_USER_NOT_FOUND when the CO has none with this id. */
export async function setApiUserStatus(ctx: CoreContext, actor: Actor, coId: string, apiUserId: string, status: 'active' | 'suspended'): Promise<void> {
  assertThat(isCoAdmin(actor, coId) && actor.kind !== 'api', CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    const apiUser = await findApiUser(trx, coId, apiUserId);
    if (!apiUser) throw new AppError(CORE_ERRORS.API_USER_NOT_FOUND);
    await updateApiUserStatus(trx, coId, apiUserId, status);
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'API_USER_STATUS_CHANGED', comment: `API user ${apiUser.username} ${status}` });
  });
}

/** An entry that cannot be parsed (`999.1.1.1`, `10.0.0.0/40`) allows nothing: refuse, never fail. */
function addressAllowed(allowed: string, address: string): boolean {
  if (allowed.trim() === '') return true;
  const list = new BlockList();
  for (const entry of allowed.split(',').map((a) => a.trim()).filter(Boolean)) {
    const [net, bits] = entry.split('/');
    const type = isIPv6(net!) ? 'ipv6' : 'ipv4';
    try {
      if (bits) list.addSubnet(net!, Number(bits), type);
      else list.addAddress(net!, type);
    } catch {
      continue;
    }
  }
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  try {
    return list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
}

/**
 * Checks HTTP Basic credentials of an API user: the key found by its hash (keys are unique; usernames
 * only per CO), the username its own (compared in constant time), the user active, within its
 * validity window, calling from an allowed address, and its CO not suspended. Returns undefined on
 * any failure.
 */
export async function authenticateApiUser(db: Executor, now: Date, username: string, key: string, address: string): Promise<(Actor & { kind: 'api' }) | undefined> {
  const found = await findApiUserByKeyHash(db, hashKey(key));
  const expected = createHash('sha256').update(found?.apiUser.username ?? '\u0000no such user').digest();
  const given = createHash('sha256').update(username).digest();
  const match = timingSafeEqual(expected, given);
  if (!found || !match || found.apiUser.status !== 'active' || found.coSuspended) return undefined;
  const { apiUser } = found;
  const t = now.toISOString();
  if ((apiUser.validFrom && apiUser.validFrom > t) || (apiUser.validThrough && apiUser.validThrough <= t)) return undefined;
  if (!addressAllowed(apiUser.allowedAddresses, address)) return undefined;
  return { kind: 'api', apiUserId: apiUser.id, label: `API user ${apiUser.username}`, coId: apiUser.coId, platform: found.coIsPlatform, privileged: apiUser.privileged };
}
