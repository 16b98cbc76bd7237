import { createHash, randomBytes } from 'node:crypto';
import type { Executor } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import { identifierKey } from '../text.ts';
import { deleteExpiredSessions, deleteSession, findSessionRow, insertSession, touchSession } from './auth.repository.ts';
import { loginPersonIds, type LoginName } from './principal.service.ts';

/**
 * A live web session: the name it signed in with (the method's identifier type and the value), the
 * people that name was at sign-in, and until when (ISO). The actor is worked out from these at
 * every request (`resolvePersonActor` with `personIds`): never from a bare username someone else
 * may hold later.
 */
export interface WebSession {
  login: LoginName;
  authMethod: string;
  personIds: string[];
  expiresAt: string;
}

/** The session cookie's base name (see `sessionCookieName`). */
export const SESSION_COOKIE = 'tessera_session';

/**
 * The session cookie's name. Over https it carries the `__Host-` prefix: browsers then accept it
 * only with Secure, Path=/ and no Domain, so neither a sibling host (another.example.org) nor a
 * plain-http page can plant or shadow it.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

const IDLE_MS = 2 * 60 * 60 * 1000;
const TOUCH_MS = 60 * 1000;

function sessionKey(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

function parsePersonIds(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Starts a session for a name a sign-in method vouched for (`method`: `local`, `oidc`) and returns
 * the cookie value; only its SHA-256 is stored. The session is bound to the people the name is
 * now: becoming a person of another CO shows at the next sign-in.
 */
export async function startSession(db: Executor, clock: Clock, login: LoginName, authMethod: string, hours: number): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  const now = clock.now();
  await insertSession(db, {
    id: sessionKey(value),
    username: login.value,
    auth_method: authMethod,
    identifier_type: login.type,
    match_key: identifierKey(login.type, login.value),
    person_ids: JSON.stringify(await loginPersonIds(db, login)),
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + hours * 3600_000).toISOString(),
    last_seen_at: now.toISOString(),
  });
  return value;
}

/** The live session for a cookie value, or undefined; expired and idle sessions are removed. */
export async function findSession(db: Executor, clock: Clock, cookieValue: string): Promise<WebSession | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(cookieValue)) return undefined;
  const id = sessionKey(cookieValue);
  const row = await findSessionRow(db, id);
  if (!row) return undefined;
  const now = clock.now();
  if (row.expires_at <= now.toISOString() || Date.parse(row.last_seen_at) + IDLE_MS <= now.getTime()) {
    await deleteSession(db, id);
    return undefined;
  }
  // Touch at most once a minute, so reading a page is not a write every time.
  if (Date.parse(row.last_seen_at) + TOUCH_MS <= now.getTime()) {
    await touchSession(db, id, now.toISOString());
  }
  return { login: { type: row.identifier_type, value: row.username }, authMethod: row.auth_method, personIds: parsePersonIds(row.person_ids), expiresAt: row.expires_at };
}

/** Ends the session of this cookie value (signing out); nothing happens for an unknown one. */
export async function endSession(db: Executor, cookieValue: string): Promise<void> {
  await deleteSession(db, sessionKey(cookieValue));
}

/** Deletes every session past its absolute expiry (idle ones go when next looked up). */
export async function purgeExpiredSessions(db: Executor, clock: Clock): Promise<void> {
  await deleteExpiredSessions(db, clock.now());
}
