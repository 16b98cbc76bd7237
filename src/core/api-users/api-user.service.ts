import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import type { ApiUserInput } from './api-user.schema.ts';
import type { ApiUserTable } from './api-user.table.ts';

export interface ApiUser {
  id: string;
  coId: string;
  username: string;
  privileged: boolean;
  status: 'active' | 'suspended';
  validFrom: string | null;
  validThrough: string | null;
  allowedAddresses: string;
  createdAt: string;
}

const toApiUser = (r: ApiUserTable): ApiUser => ({
  id: r.id,
  coId: r.co_id,
  username: r.username,
  privileged: r.privileged === 1,
  status: r.status,
  validFrom: r.valid_from,
  validThrough: r.valid_through,
  allowedAddresses: r.allowed_addresses,
  createdAt: r.created_at,
});

// API keys are 256 random bits, so a fast hash is enough (no dictionary to try) and keeps every
// API request cheap; passwords that people choose are argon2id-hashed instead.
function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export async function createApiUser(ctx: CoreContext, actor: Actor, coId: string, input: ApiUserInput): Promise<{ apiUser: ApiUser; key: string }> {
  assertThat(isCoAdmin(actor, coId) && actor.kind !== 'api', CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    await getCo(trx, coId);
    const key = `tsk_${randomBytes(32).toString('base64url')}`;
    const id = newId();
    try {
      await trx
        .insertInto('api_user')
        .values({
          id,
          co_id: coId,
          username: input.username,
          key_hash: hashKey(key),
          privileged: input.privileged ? 1 : 0,
          status: 'active',
          valid_from: input.validFrom ?? null,
          valid_through: input.validThrough ?? null,
          allowed_addresses: input.allowedAddresses,
          created_at: ctx.clock.now().toISOString(),
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.API_USERNAME_TAKEN, { field: 'username' });
      throw e;
    }
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'API_USER_CREATED', comment: `API user ${input.username} created${input.privileged ? ' (privileged)' : ''}` });
    const row = await trx.selectFrom('api_user').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return { apiUser: toApiUser(row), key };
  });
}

/** One API user of the CO (scoped by CO, like every lookup). */
export async function findApiUser(db: Executor, coId: string, apiUserId: string): Promise<ApiUser | undefined> {
  if (!isId(apiUserId)) return undefined;
  const row = await db.selectFrom('api_user').selectAll().where('id', '=', apiUserId).where('co_id', '=', coId).executeTakeFirst();
  return row && toApiUser(row);
}

export async function listApiUsers(ctx: CoreContext, actor: Actor, coId: string): Promise<ApiUser[]> {
  assertThat(isCoAdmin(actor, coId) && actor.kind !== 'api', CORE_ERRORS.FORBIDDEN);
  const rows = await ctx.db.selectFrom('api_user').selectAll().where('co_id', '=', coId).orderBy('username').execute();
  return rows.map(toApiUser);
}

export async function setApiUserStatus(ctx: CoreContext, actor: Actor, coId: string, apiUserId: string, status: 'active' | 'suspended'): Promise<void> {
  assertThat(isCoAdmin(actor, coId) && actor.kind !== 'api', CORE_ERRORS.FORBIDDEN);
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('api_user').selectAll().where('id', '=', apiUserId).where('co_id', '=', coId).executeTakeFirst();
    if (!row) throw new AppError(CORE_ERRORS.API_USER_NOT_FOUND);
    await trx.updateTable('api_user').set({ status }).where('id', '=', apiUserId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'API_USER_STATUS_CHANGED', comment: `API user ${row.username} ${status}` });
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
 * Checks HTTP Basic credentials of an API user: active, within its validity window, calling from
 * an allowed address, key matching in constant time. Returns undefined on any failure.
 */
export async function authenticateApiUser(db: Executor, now: Date, username: string, key: string, address: string): Promise<(Actor & { kind: 'api' }) | undefined> {
  const row = await db
    .selectFrom('api_user as u')
    .innerJoin('co', 'co.id', 'u.co_id')
    .selectAll('u')
    .select('co.is_platform')
    .where('u.username', '=', username)
    .executeTakeFirst();
  const expected = Buffer.from(row?.key_hash ?? hashKey('no such user'));
  const given = Buffer.from(hashKey(key));
  const match = expected.length === given.length && timingSafeEqual(expected, given);
  if (!row || !match || row.status !== 'active') return undefined;
  const t = now.toISOString();
  if ((row.valid_from && row.valid_from > t) || (row.valid_through && row.valid_through <= t)) return undefined;
  if (!addressAllowed(row.allowed_addresses, address)) return undefined;
  return { kind: 'api', apiUserId: row.id, label: `API user ${row.username}`, coId: row.co_id, platform: row.is_platform === 1, privileged: row.privileged === 1 };
}
