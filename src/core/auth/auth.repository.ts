import { mapUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import type { LocalAccountTable, WebSessionTable } from './auth.table.ts';

// Local accounts and web sessions belong to a name, not to a CO: a username may be a person in
// several COs, and sign-in comes before any CO is known. So these queries are scoped by username or
// by session key.

/** Inserts a local account. A username with an account already (unique) is ACCOUNT_USERNAME_TAKEN (409, field `username`). */
export async function insertLocalAccount(db: Executor, row: LocalAccountTable): Promise<void> {
  await mapUniqueViolation(db.insertInto('local_account').values(row).execute(), () => new AppError(CORE_ERRORS.ACCOUNT_USERNAME_TAKEN, { field: 'username' }));
}

/** Replaces the password hash of the account with this key (`match_key`); false when there is none. */
export async function updateLocalPasswordHash(db: Executor, matchKey: string, passwordHash: string): Promise<boolean> {
  const result = await db.updateTable('local_account').set({ password_hash: passwordHash }).where('match_key', '=', matchKey).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The stored password hash (argon2id, PHC string) of the account with this key (`match_key`), if any. */
export async function findLocalPasswordHash(db: Executor, matchKey: string): Promise<string | undefined> {
  const row = await db.selectFrom('local_account').select('password_hash').where('match_key', '=', matchKey).executeTakeFirst();
  return row?.password_hash;
}

/** Inserts a web session; its id is the SHA-256 of the cookie value. */
export async function insertSession(db: Executor, row: WebSessionTable): Promise<void> {
  await db.insertInto('web_session').values(row).execute();
}

/** The session with this key (SHA-256 of the cookie value), live or not. */
export async function findSessionRow(db: Executor, sessionKey: string): Promise<WebSessionTable | undefined> {
  return db.selectFrom('web_session').selectAll().where('id', '=', sessionKey).executeTakeFirst();
}

/** Records activity on a session at `lastSeenAt` (ISO). */
export async function touchSession(db: Executor, sessionKey: string, lastSeenAt: string): Promise<void> {
  await db.updateTable('web_session').set({ last_seen_at: lastSeenAt }).where('id', '=', sessionKey).execute();
}

/** Deletes one session by key. */
export async function deleteSession(db: Executor, sessionKey: string): Promise<void> {
  await db.deleteFrom('web_session').where('id', '=', sessionKey).execute();
}

/** Deletes the sessions of a name (identifier type and key) that signed in with this method (e.g. `local`). */
export async function deleteSessionsOf(db: Executor, identifierType: string, matchKey: string, authMethod: string): Promise<void> {
  await db.deleteFrom('web_session').where('identifier_type', '=', identifierType).where('match_key', '=', matchKey).where('auth_method', '=', authMethod).execute();
}

/** Deletes the sessions whose absolute expiry is at or before `now`. */
export async function deleteExpiredSessions(db: Executor, now: Date): Promise<void> {
  await db.deleteFrom('web_session').where('expires_at', '<=', now.toISOString()).execute();
}
