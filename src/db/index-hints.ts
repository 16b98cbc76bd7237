// Index hints for SQLite, whose planner has no statistics (no ANALYZE): given `co_id = ? AND
// person_id IN (…)`, it may pick an index led by co_id and scan every row of the CO instead of
// looking up the few people by their own index. A unary + on a column keeps SQLite from using an
// index on it; PostgreSQL plans by its statistics and gets the plain column.
import { sql, type RawBuilder } from 'kysely';
import { takesRowLocks } from './transaction.ts';

/**
 * The column `ref` (e.g. `co_id`, `t.co_id`) as a filter operand that no SQLite index serves, so
 * the planner looks rows up by the other, more selective conditions (the id lists of a chunk).
 * On PostgreSQL, the column itself.
 */
export function unindexed(db: { getExecutor(): { adapter: unknown } }, ref: string): RawBuilder<unknown> {
  return takesRowLocks(db) ? sql.ref(ref) : sql`+${sql.ref(ref)}`;
}

/**
 * The text column `ref` as a filter operand that no index serves, on SQLite (`+col`) and on
 * PostgreSQL (`col || ''`) alike. For a query whose selective condition PostgreSQL cannot see in
 * its statistics: a prefix range on a text column is estimated from a histogram that knows nothing
 * of prefixes (at 200,000 people it put a three-letter name prefix at 29 terms where 8,000 matched),
 * so given `co_id = ? AND person_id IN (…) AND term range` it read every term of the prefix in the
 * CO by the (co_id, term) index, once per walked chunk, instead of the chunk's people's few terms.
 */
export function neverIndexed(db: { getExecutor(): { adapter: unknown } }, ref: string): RawBuilder<unknown> {
  return takesRowLocks(db) ? sql`(${sql.ref(ref)} || '')` : sql`+${sql.ref(ref)}`;
}
