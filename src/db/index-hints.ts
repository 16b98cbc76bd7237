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
