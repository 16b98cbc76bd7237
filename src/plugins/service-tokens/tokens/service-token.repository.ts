import type { Insertable } from 'kysely';
import { isUniqueViolation } from '../../../db/constraint-errors.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { ServiceTokenTable } from '../service-token.table.ts';
import type { TokenDb } from '../token-context.ts';
import { liveToken } from './usable-token.ts';

/** A token as stored: everything but the secret, which is never stored (only its hash). */
export interface StoredToken {
  id: string;
  coId: string;
  personId: string;
  serviceId: string;
  label: string;
  /** RFC 2307 `{SCHEME}…` string; the raw secret only for the legacy plaintext scheme. */
  hash: string;
  tokenType: string;
  /** The type's definition (JSON) when the token was made. */
  tokenTypeDef: string;
  storageScheme: string;
  displayHint: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedAddress: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
}

const toStoredToken = (r: ServiceTokenTable): StoredToken => ({
  id: r.id,
  coId: r.co_id,
  personId: r.person_id,
  serviceId: r.service_id,
  label: r.label,
  hash: r.hash,
  tokenType: r.token_type,
  tokenTypeDef: r.token_type_def,
  storageScheme: r.storage_scheme,
  displayHint: r.display_hint,
  createdBy: r.created_by_label,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  lastUsedAddress: r.last_used_address,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by_label,
  revokedReason: r.revoked_reason,
});

/** Every token of the person, revoked and expired ones included, newest first. */
export async function tokensOfPerson(db: TokenDb, coId: string, personId: string): Promise<StoredToken[]> {
  const rows = await db.selectFrom('service_token').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).orderBy('created_at', 'desc').execute();
  return rows.map(toStoredToken);
}

/** The person's live tokens at `now` (see `liveToken`), oldest first; optionally of one service. */
export async function liveTokensOfPerson(db: TokenDb, coId: string, personId: string, now: Date, serviceId?: string): Promise<StoredToken[]> {
  let q = db.selectFrom('service_token').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).where((eb) => liveToken(eb, now));
  if (serviceId) q = q.where('service_id', '=', serviceId);
  return (await q.orderBy('created_at').execute()).map(toStoredToken);
}

/** `liveTokensOfPerson` for many people of one CO in one query: live tokens by person id, oldest first. */
export async function liveTokensOfPeople(db: TokenDb, coId: string, personIds: readonly string[], now: Date): Promise<Map<string, StoredToken[]>> {
  const out = new Map<string, StoredToken[]>();
  if (personIds.length === 0) return out;
  const rows = await db.selectFrom('service_token').selectAll().where('co_id', '=', coId).where('person_id', 'in', [...personIds]).where((eb) => liveToken(eb, now)).orderBy('created_at').execute();
  for (const row of rows) {
    const list = out.get(row.person_id);
    if (list) list.push(toStoredToken(row));
    else out.set(row.person_id, [toStoredToken(row)]);
  }
  return out;
}

/** One token of the person, or undefined (also for another person's or another CO's token). */
export async function findTokenOfPerson(db: TokenDb, coId: string, personId: string, tokenId: string): Promise<StoredToken | undefined> {
  const row = await db.selectFrom('service_token').selectAll().where('co_id', '=', coId).where('person_id', '=', personId).where('id', '=', tokenId).executeTakeFirst();
  return row && toStoredToken(row);
}

/** Unrevoked tokens of the CO matching every given filter. */
export async function unrevokedTokens(db: TokenDb, coId: string, filter: { personId?: string; serviceId?: string; tokenId?: string }): Promise<StoredToken[]> {
  let q = db.selectFrom('service_token').selectAll().where('co_id', '=', coId).where('revoked_at', 'is', null);
  if (filter.personId) q = q.where('person_id', '=', filter.personId);
  if (filter.serviceId) q = q.where('service_id', '=', filter.serviceId);
  if (filter.tokenId) q = q.where('id', '=', filter.tokenId);
  return (await q.execute()).map(toStoredToken);
}

/** How many unrevoked tokens (expired ones included) the service has, for everyone. */
export async function countUnrevokedOfService(db: TokenDb, coId: string, serviceId: string): Promise<number> {
  const row = await db
    .selectFrom('service_token')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('co_id', '=', coId)
    .where('service_id', '=', serviceId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The people who hold (or held) a token for the service: whom a change of the service concerns. */
export async function personIdsWithTokensFor(db: TokenDb, coId: string, serviceId: string): Promise<string[]> {
  const rows = await db.selectFrom('service_token').select('person_id').distinct().where('co_id', '=', coId).where('service_id', '=', serviceId).execute();
  return rows.map((r) => r.person_id);
}

/**
 * Stores a new token and returns it. The form's nonce is unique: a resubmitted form becomes
 * TOKEN_ALREADY_SHOWN (409) instead of a second token.
 */
export async function insertToken(db: TokenDb, values: Insertable<ServiceTokenTable>): Promise<StoredToken> {
  try {
    await db.insertInto('service_token').values(values).execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_ALREADY_SHOWN);
    throw e;
  }
  return toStoredToken(await db.selectFrom('service_token').selectAll().where('id', '=', values.id).executeTakeFirstOrThrow());
}

/** Marks the tokens revoked at `at` (ISO time) by `by`. */
export async function markRevoked(db: TokenDb, ids: readonly string[], revocation: { at: string; by: string; reason: string | null }): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('service_token')
    .set({ revoked_at: revocation.at, revoked_by_label: revocation.by, revoked_reason: revocation.reason })
    .where('id', 'in', ids)
    .execute();
}

/** Tokens whose expiry passed by `now` and that the expiry sweep has not handled yet (of one CO, when given), oldest expiry first. */
export async function expiredUnhandled(db: TokenDb, now: string, limit: number, coId?: string): Promise<StoredToken[]> {
  const rows = await db
    .selectFrom('service_token')
    .selectAll()
    .where('expiry_handled_at', 'is', null)
    .where('expires_at', '<=', now)
    .$if(coId !== undefined, (q) => q.where('co_id', '=', coId!))
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map(toStoredToken);
}

/** The COs with tokens that expired by `now` and whose expiry is not handled yet, by id. */
export async function cosWithExpiredUnhandled(db: TokenDb, now: string): Promise<string[]> {
  const rows = await db.selectFrom('service_token').select('co_id').distinct().where('expiry_handled_at', 'is', null).where('expires_at', '<=', now).orderBy('co_id').execute();
  return rows.map((r) => r.co_id);
}

/** Marks the tokens' expiry handled at `at` (ISO time), so the sweep does not handle them again. */
export async function markExpiryHandled(db: TokenDb, ids: readonly string[], at: string): Promise<void> {
  if (ids.length > 0) await db.updateTable('service_token').set({ expiry_handled_at: at }).where('id', 'in', ids).execute();
}

/** Live tokens (of any CO) that expire after `now` and by `until`: those an expiry warning may concern. */
export async function liveTokensExpiringBy(db: TokenDb, now: Date, until: Date): Promise<StoredToken[]> {
  const rows = await db
    .selectFrom('service_token')
    .selectAll()
    .where((eb) => liveToken(eb, now))
    .where('expires_at', '<=', until.toISOString())
    .execute();
  return rows.map(toStoredToken);
}

/** Live tokens (not revoked, not expired at `now`) of the given services, any CO. */
export async function liveTokensOfServices(db: TokenDb, serviceIds: readonly string[], now: Date): Promise<StoredToken[]> {
  if (serviceIds.length === 0) return [];
  const rows = await db.selectFrom('service_token').selectAll().where((eb) => liveToken(eb, now)).where('service_id', 'in', [...serviceIds]).execute();
  return rows.map(toStoredToken);
}

/** Writes a token's last use (ISO time, client address). */
export async function recordLastUse(db: TokenDb, tokenId: string, at: string, address: string): Promise<void> {
  await db.updateTable('service_token').set({ last_used_at: at, last_used_address: address }).where('id', '=', tokenId).execute();
}

/** Stores many new tokens in multi-row INSERTs (bulk loading); a repeated form nonce is TOKEN_ALREADY_SHOWN (409), as one at a time. */
export async function insertTokens(db: TokenDb, rows: ReadonlyArray<Insertable<ServiceTokenTable>>): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    try {
      await db.insertInto('service_token').values(rows.slice(i, i + 500)).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError(SERVICE_TOKEN_ERRORS.TOKEN_ALREADY_SHOWN);
      throw e;
    }
  }
}
