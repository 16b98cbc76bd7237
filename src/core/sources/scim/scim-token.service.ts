import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../../../db/ids.ts';
import { inTransaction } from '../../../db/transaction.ts';
import { isCoAdmin, type Actor } from '../../auth/actor.ts';
import type { CoreContext } from '../../context.ts';
import { AppError, assertThat } from '../../errors/app-error.ts';
import { CORE_ERRORS } from '../../errors/error-codes.ts';
import { recordHistory } from '../../history/history.service.ts';
import { findSource } from '../source.repository.ts';
import { SOURCE_ERRORS } from '../source-errors.ts';
import { insertScimToken, listScimTokensOfSource, revokeScimTokenRow, type ScimToken } from './scim-token.repository.ts';

export type { ScimToken } from './scim-token.repository.ts';

/** The recognisable prefix of SCIM bearer tokens (so a leaked one can be found by scanners). */
export const SCIM_TOKEN_PREFIX = 'tss_';

/** `sha256:<hex>` of a token: 256 random bits need no slow hash, and every SCIM request stays cheap. */
export function hashScimToken(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

async function scimSourceOf(db: CoreContext['db'], coId: string, sourceId: string) {
  const source = await findSource(db, coId, sourceId);
  if (!source || source.kind !== 'scim') throw new AppError(SOURCE_ERRORS.SOURCE_NOT_FOUND);
  return source;
}

/** Inserts a new token of the source in the caller's transaction; returns it with its secret (shown once). */
export async function mintScimToken(ctx: CoreContext, trx: CoreContext['db'], coId: string, sourceId: string, label: string): Promise<{ token: ScimToken; secret: string }> {
  const secret = `${SCIM_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const token = await insertScimToken(trx, {
    id: newId(),
    co_id: coId,
    source_id: sourceId,
    label: label.trim().slice(0, 100) || 'token',
    token_hash: hashScimToken(secret),
    hint: secret.slice(-4),
    created_at: ctx.clock.now().toISOString(),
    last_used_at: null,
    revoked_at: null,
  });
  return { token, secret };
}

/**
 * Makes a bearer token for a SCIM source and returns it with its secret (`tss_` + 256 random bits),
 * shown this once: only its SHA-256 is stored. CO admins (people and privileged API users).
 * Errors: FORBIDDEN, SOURCE_NOT_FOUND (no `scim` source of this id in the CO).
 */
export async function createScimToken(ctx: CoreContext, actor: Actor, coId: string, sourceId: string, label: string): Promise<{ token: ScimToken; secret: string }> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    const source = await scimSourceOf(trx, coId, sourceId);
    const made = await mintScimToken(ctx, trx, coId, sourceId, label);
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SCIM_TOKEN_CREATED', comment: `SCIM token "${made.token.label}" (…${made.token.hint}) created for source ${source.name}` });
    return made;
  });
}

/** The source's tokens (no secrets), newest first. CO admins; FORBIDDEN, SOURCE_NOT_FOUND. */
export async function listScimTokens(ctx: CoreContext, actor: Actor, coId: string, sourceId: string): Promise<ScimToken[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await scimSourceOf(ctx.db, coId, sourceId);
  return listScimTokensOfSource(ctx.db, coId, sourceId);
}

/**
 * Revokes one token: the next request with it answers 401. CO admins. A token revoked already is
 * left as it is. Errors: FORBIDDEN, SOURCE_NOT_FOUND, NOT_FOUND (the source has no such token).
 */
export async function revokeScimToken(ctx: CoreContext, actor: Actor, coId: string, sourceId: string, tokenId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    const source = await scimSourceOf(trx, coId, sourceId);
    if (!(await revokeScimTokenRow(trx, coId, sourceId, tokenId, ctx.clock.now().toISOString()))) {
      // Revoked already: nothing to do. Unknown: 404.
      if ((await listScimTokensOfSource(trx, coId, sourceId)).some((t) => t.id === tokenId)) return;
      throw new AppError(CORE_ERRORS.NOT_FOUND, { message: 'No such token of this source' });
    }
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SCIM_TOKEN_REVOKED', comment: `SCIM token ${tokenId} of source ${source.name} revoked` });
  });
}

/**
 * Rotation: a new token, and every older unrevoked token of the source revoked, in one
 * transaction. Returns the new token and its secret (shown once). Errors as createScimToken.
 */
export async function rotateScimTokens(ctx: CoreContext, actor: Actor, coId: string, sourceId: string, label: string): Promise<{ token: ScimToken; secret: string }> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return inTransaction(ctx.db, async (trx) => {
    const source = await scimSourceOf(trx, coId, sourceId);
    const at = ctx.clock.now().toISOString();
    for (const t of await listScimTokensOfSource(trx, coId, sourceId)) if (t.revokedAt === null) await revokeScimTokenRow(trx, coId, sourceId, t.id, at);
    const made = await mintScimToken(ctx, trx, coId, sourceId, label);
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SCIM_TOKEN_ROTATED', comment: `SCIM tokens of source ${source.name} rotated: only …${made.token.hint} is valid now` });
    return made;
  });
}
