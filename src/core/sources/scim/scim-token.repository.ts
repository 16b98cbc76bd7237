import type { Executor } from '../../../db/database.ts';
import type { ScimTokenTable } from './scim-token.table.ts';

/** A SCIM source's token as listed (never its secret or hash). */
export interface ScimToken {
  id: string;
  sourceId: string;
  label: string;
  hint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const toToken = (r: Pick<ScimTokenTable, 'id' | 'source_id' | 'label' | 'hint' | 'created_at' | 'last_used_at' | 'revoked_at'>): ScimToken => ({
  id: r.id,
  sourceId: r.source_id,
  label: r.label,
  hint: r.hint,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export async function insertScimToken(db: Executor, row: ScimTokenTable): Promise<ScimToken> {
  await db.insertInto('scim_token').values(row).execute();
  return toToken(row);
}

/** The source's tokens, newest first, revoked ones included. */
export async function listScimTokensOfSource(db: Executor, coId: string, sourceId: string): Promise<ScimToken[]> {
  const rows = await db.selectFrom('scim_token').select(['id', 'source_id', 'label', 'hint', 'created_at', 'last_used_at', 'revoked_at']).where('co_id', '=', coId).where('source_id', '=', sourceId).orderBy('created_at', 'desc').orderBy('id').execute();
  return rows.map(toToken);
}

/** Marks a token revoked; false when the source has no such unrevoked token. */
export async function revokeScimTokenRow(db: Executor, coId: string, sourceId: string, tokenId: string, at: string): Promise<boolean> {
  const res = await db.updateTable('scim_token').set({ revoked_at: at }).where('co_id', '=', coId).where('source_id', '=', sourceId).where('id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The unrevoked token with this hash: its id, source and CO, and when it was last used. */
export async function findLiveScimToken(db: Executor, tokenHash: string): Promise<{ id: string; coId: string; sourceId: string; lastUsedAt: string | null } | undefined> {
  const row = await db.selectFrom('scim_token').select(['id', 'co_id', 'source_id', 'last_used_at']).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
  return row && { id: row.id, coId: row.co_id, sourceId: row.source_id, lastUsedAt: row.last_used_at };
}

export async function touchScimToken(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('scim_token').set({ last_used_at: at }).where('id', '=', id).execute();
}
