import { hash, verify } from '@node-rs/argon2';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { Clock } from '../clock.ts';
import { identifierKey } from '../text.ts';
import { deleteSessionsOf, findLocalPasswordHash, insertLocalAccount, updateLocalPasswordHash } from './auth.repository.ts';

// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Local accounts name people by uid: their usernames are uid values, compared as uids are. */
export const LOCAL_IDENTIFIER_TYPE = 'uid';

/** The key of a local username: its uid key (`identifierKey`), so `ADA` is the account `ada`. */
export function localAccountKey(username: string): string {
  return identifierKey(LOCAL_IDENTIFIER_TYPE, username);
}

// Verifying against this when the username is unknown keeps sign-in timing the same either way.
let dummyHash: Promise<string> | undefined;

/**
 * Creates a local account with an argon2id-hashed password; ACCOUNT_USERNAME_TAKEN (409, field
 * `username`) when the username, compared as a uid (`ADA` is `ada`), has one.
 */
export async function createLocalAccount(db: Executor, clock: Clock, username: string, password: string): Promise<void> {
  const passwordHash = await hash(password, ARGON2_OPTIONS);
  const nfc = username.normalize('NFC');
  await insertLocalAccount(db, { id: newId(), username: nfc, match_key: localAccountKey(nfc), password_hash: passwordHash, created_at: clock.now().toISOString() });
}

/**
 * Sets a new password (false when the username has no local account); the sessions signed in with a password end, so a reset after a leak also
 * throws out whoever used the old one (sessions of other sign-in methods stay).
 */
export async function setLocalPassword(db: Executor, username: string, password: string): Promise<boolean> {
  const passwordHash = await hash(password, ARGON2_OPTIONS);
  const key = localAccountKey(username);
  if (!(await updateLocalPasswordHash(db, key, passwordHash))) return false;
  await deleteSessionsOf(db, LOCAL_IDENTIFIER_TYPE, key, 'local');
  return true;
}

/** True when the username (compared as a uid) has a local account with this password. Never says which part was wrong. */
export async function checkLocalPassword(db: Executor, username: string, password: string): Promise<boolean> {
  const passwordHash = await findLocalPasswordHash(db, localAccountKey(username));
  if (!passwordHash) {
    dummyHash ??= hash('no such account', ARGON2_OPTIONS);
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
