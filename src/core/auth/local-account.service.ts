import { hash, verify } from '@node-rs/argon2';
import type { Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import { newId } from '../../db/ids.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';

// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

// Verifying against this when the username is unknown keeps sign-in timing the same either way.
let dummyHash: Promise<string> | undefined;

export async function createLocalAccount(db: Executor, clock: Clock, username: string, password: string): Promise<void> {
  const passwordHash = await hash(password, ARGON2_OPTIONS);
  try {
    await db.insertInto('local_account').values({ id: newId(), username, password_hash: passwordHash, created_at: clock.now().toISOString() }).execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError(CORE_ERRORS.ACCOUNT_USERNAME_TAKEN, { field: 'username' });
    throw e;
  }
}

/**
 * Sets a new password; the sessions signed in with a password end, so a reset after a leak also
 * throws out whoever used the old one (sessions of other sign-in methods stay).
 */
export async function setLocalPassword(db: Executor, username: string, password: string): Promise<boolean> {
  const passwordHash = await hash(password, ARGON2_OPTIONS);
  const result = await db.updateTable('local_account').set({ password_hash: passwordHash }).where('username', '=', username).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  await db.deleteFrom('web_session').where('username', '=', username).where('auth_method', '=', 'local').execute();
  return true;
}

/** True when the username has a local account with this password. Never says which part was wrong. */
export async function checkLocalPassword(db: Executor, username: string, password: string): Promise<boolean> {
  const row = await db.selectFrom('local_account').select('password_hash').where('username', '=', username).executeTakeFirst();
  if (!row) {
    dummyHash ??= hash('no such account', ARGON2_OPTIONS);
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(row.password_hash, password).catch(() => false);
}
