import type { TokenDb } from '../token-context.ts';

/** The warnings already recorded for each of the tokens: token id → days (e.g. 30, 7). */
export async function warningsRecordedFor(db: TokenDb, tokenIds: readonly string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (tokenIds.length === 0) return out;
  const rows = await db.selectFrom('service_token_warning').select(['token_id', 'days']).where('token_id', 'in', [...tokenIds]).execute();
  for (const r of rows) out.set(r.token_id, [...(out.get(r.token_id) ?? []), r.days]);
  return out;
}

/**
 * Records that the token's warnings for these thresholds went out at `at` (ISO time). The record
 * is unique per (token, days): a second sweep recording the same one fails (see `recordedAlready`).
 */
export async function recordWarnings(db: TokenDb, tokenId: string, days: readonly number[], at: string): Promise<void> {
  for (const d of days) await db.insertInto('service_token_warning').values({ token_id: tokenId, days: d, sent_at: at }).execute();
}

/** Whether an error of `recordWarnings` says another sweep recorded (and so sent) the warning first. */
export function recordedAlready(error: unknown): boolean {
  return /unique|constraint|duplicate/i.test(String((error as Error).message));
}
