import { CompiledQuery } from 'kysely';
import { preparedOnPostgres } from '../../../db/postgres-named-statements.ts';
import { takesRowLocks } from '../../../db/transaction.ts';
import type { TokenDb } from '../token-context.ts';

/** One token's last use: when (ISO 8601) and from which address. */
export interface LastUse {
  tokenId: string;
  at: string;
  address: string;
}

/** SQLite: one row per statement, the text written once (so the driver's statement cache keeps it prepared). */
const UPDATE_ONE_SQL = 'update service_token set last_used_at = ?, last_used_address = ? where id = ?';

/** PostgreSQL: the whole batch in one statement, one round trip, a named statement. Parameters: ids, times, addresses (text arrays). */
const UPDATE_MANY_POSTGRES = preparedOnPostgres(`update service_token t set last_used_at = u.at, last_used_address = u.address
from unnest($1::text[], $2::text[], $3::text[]) as u(id, at, address)
where t.id = u.id`);

/**
 * Records the last use of each token in `uses` (a token not found is skipped). Written as SQL text
 * rather than with the query builder: under a burst of tokens new to the process (a restart) this
 * runs thousands of times a second, and building and compiling each UPDATE cost more than running
 * it. Run it in a transaction for a batch of more than one on SQLite (one commit, one disk sync).
 */
export async function recordLastUses(db: TokenDb, uses: readonly LastUse[]): Promise<void> {
  if (uses.length === 0) return;
  if (takesRowLocks(db)) {
    await db.executeQuery(CompiledQuery.raw(UPDATE_MANY_POSTGRES, [uses.map((u) => u.tokenId), uses.map((u) => u.at), uses.map((u) => u.address)]));
    return;
  }
  for (const u of uses) await db.executeQuery(CompiledQuery.raw(UPDATE_ONE_SQL, [u.at, u.address, u.tokenId]));
}
