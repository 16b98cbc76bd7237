import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import type { ApiUserTable } from './api-user.table.ts';

/** An API user of a CO (COmanage CoApiUser), without its key hash. */
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

/**
 * Inserts an API user and returns it. A username the CO uses already (`api_user_co_username_uq`;
 * usernames are unique per CO, so the answer says nothing about other COs) is API_USERNAME_TAKEN
 * (409, field `username`).
 */
export async function insertApiUser(db: Executor, row: ApiUserTable): Promise<ApiUser> {
  await mapUniqueViolation(db.insertInto('api_user').values(row).execute(), () => new AppError(CORE_ERRORS.API_USERNAME_TAKEN, { field: 'username' }));
  return toApiUser(row);
}

/** One API user of the CO (scoped by CO, like every lookup); undefined for a malformed id. */
export async function findApiUser(db: Executor, coId: string, apiUserId: string): Promise<ApiUser | undefined> {
  if (!isId(apiUserId)) return undefined;
  const row = await db.selectFrom('api_user').selectAll().where('id', '=', apiUserId).where('co_id', '=', coId).executeTakeFirst();
  return row && toApiUser(row);
}

/** The CO's API users by username. */
export async function listApiUsersOfCo(db: Executor, coId: string): Promise<ApiUser[]> {
  const rows = await db.selectFrom('api_user').selectAll().where('co_id', '=', coId).orderBy('username').execute();
  return rows.map(toApiUser);
}

/** Sets the status of an API user of the CO. */
export async function updateApiUserStatus(db: Executor, coId: string, apiUserId: string, status: ApiUser['status']): Promise<void> {
  await db.updateTable('api_user').set({ status }).where('co_id', '=', coId).where('id', '=', apiUserId).execute();
}

/** What authenticating an API user needs: the row, whether its CO is the platform CO, and whether it is suspended. */
export interface ApiUserCredentials {
  apiUser: ApiUser;
  coIsPlatform: boolean;
  coSuspended: boolean;
}

/**
 * The API user whose key has this hash, whatever its CO: HTTP Basic carries no CO and usernames are
 * unique only per CO, but keys (256 random bits) are unique (`api_user_key_hash_uq`). Undefined
 * when there is none.
 */
export async function findApiUserByKeyHash(db: Executor, keyHash: string): Promise<ApiUserCredentials | undefined> {
  const row = await db
    .selectFrom('api_user as u')
    .innerJoin('co', 'co.id', 'u.co_id')
    .selectAll('u')
    .select(['co.is_platform', 'co.status as co_status'])
    .where('u.key_hash', '=', keyHash)
    .executeTakeFirst();
  return row && { apiUser: toApiUser(row), coIsPlatform: row.is_platform === 1, coSuspended: row.co_status === 'suspended' };
}
