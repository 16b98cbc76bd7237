import type { SelectQueryBuilder } from 'kysely';
import type { Executor } from './database.ts';

/** A count for a page: `total`, and whether it is a lower bound because counting stopped at `upTo`. */
export interface PageCount {
  total: number;
  totalIsAtLeast: boolean;
}

/**
 * Counts the rows `rows` selects. With `upTo`, the database stops after `upTo + 1` rows and the
 * answer is `{ total: upTo, totalIsAtLeast: true }` when there are more: a page can say "more than
 * 1,000" without counting a million rows each time it is shown.
 */
export async function countRows<DB, TB extends keyof DB, O>(db: Executor, rows: SelectQueryBuilder<DB, TB, O>, upTo?: number): Promise<PageCount> {
  const bounded = upTo === undefined ? rows : rows.limit(upTo + 1);
  const row = await db.selectFrom(bounded.as('r')).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  const n = Number(row.n);
  return upTo !== undefined && n > upTo ? { total: upTo, totalIsAtLeast: true } : { total: n, totalIsAtLeast: false };
}
