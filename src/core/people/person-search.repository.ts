import { countRows, type PageCount } from '../../db/count-rows.ts';
import type { Executor } from '../../db/database.ts';
import { neverIndexed } from '../../db/index-hints.ts';
import { loadPeople, type Person } from './person.repository.ts';
import type { CoPersonTable } from './person.table.ts';
import { termPrefixRange } from './person-search-terms.ts';

/**
 * Matches gathered before a search changes plan: the first 2 × (this + 1) terms of the prefix are
 * read from the term index. When that is all of them, every match is known (at least this many
 * people when each has one term of the prefix, half as many when each has two): they are sorted
 * newest first in memory and counted exactly. When there are more terms, the term is common
 * enough that walking the CO's people newest first finds a page of matches after a few thousand.
 */
export const SEARCH_GATHER_LIMIT = 2000;
/** Terms read to gather the matches: twice SEARCH_GATHER_LIMIT + 1, for people with more than one term of a prefix. */
const GATHER_SCAN = 2 * (SEARCH_GATHER_LIMIT + 1);

/** A page of people, and how many there are: exactly, or (`totalIsAtLeast`) at least that many. */
export interface PeoplePage {
  people: Person[];
  total: number;
  /** True when `total` is a lower bound: counting stopped at `countUpTo`. */
  totalIsAtLeast: boolean;
}

/**
 * One page of the CO's people, newest first (created_at descending, then id), optionally searched.
 * A search finds the people one of whose terms starts with `q`, case folded by the database's
 * lower() on both sides (see person-search-terms.ts): a name from any word on, an identifier, an
 * email address or its domain. `countUpTo`: stop counting there and say "at least" (the web page,
 * which need not count a million people for its pager); without it the total is exact.
 *
 * Query shapes (each an index range, never a scan of the CO for a page):
 * - no search: `co_person_co_created_idx` from the newest, LIMIT/OFFSET;
 * - a search: up to 2 × (SEARCH_GATHER_LIMIT + 1) terms from `person_search_term_co_term_idx`;
 *   if that is all, their people are read by primary key, sorted here and paged. If not (a common term),
 *   the CO's people are walked newest first, a chunk at a time, asking the term index which of
 *   each chunk match, until the page is full; after `walkLimit` people (SEARCH_WALK_LIMIT) without
 *   a full page the matches are old ones, and they are all gathered and sorted in the database.
 */
export async function searchPeople(
  db: Executor,
  coId: string,
  opts: { q?: string; limit: number; offset: number; countUpTo?: number; walkLimit?: number },
): Promise<PeoplePage> {
  if (!opts.q) {
    const rows = await db.selectFrom('co_person').selectAll().where('co_id', '=', coId).orderBy('created_at', 'desc').orderBy('id').limit(opts.limit).offset(opts.offset).execute();
    const counted = db.selectFrom('co_person').select('id').where('co_id', '=', coId);
    const { total, totalIsAtLeast } = await countRows(db, counted, opts.countUpTo);
    return { people: await loadPeople(db, coId, rows), total, totalIsAtLeast };
  }
  const q = opts.q;
  const matching = db.selectFrom('person_search_term as t').select('t.person_id').distinct().where('t.co_id', '=', coId).where(termPrefixRange('t.term', q));
  // The first matching terms in index order, made distinct here: a DISTINCT in SQL makes PostgreSQL
  // hash every term of the prefix (tens of thousands for a common one) before the LIMIT applies.
  // Fewer terms than the limit: every match is known. Otherwise the term is common (a person has
  // a few terms per prefix at most): the walk below.
  const scanned = await db.selectFrom('person_search_term as t').select('t.person_id').where('t.co_id', '=', coId).where(termPrefixRange('t.term', q)).limit(GATHER_SCAN).execute();
  const distinct = [...new Set(scanned.map((r) => r.person_id))];
  const gathered = scanned.length < GATHER_SCAN ? distinct : undefined;
  if (gathered) {
    if (gathered.length === 0) return { people: [], total: 0, totalIsAtLeast: false };
    // Read by primary key and sorted here: an ORDER BY in SQL may tempt a planner into walking the
    // whole CO by `co_person_co_created_idx` to avoid the sort.
    const found: CoPersonTable[] = [];
    for (let i = 0; i < gathered.length; i += 500) {
      found.push(...(await db.selectFrom('co_person').selectAll().where('co_id', '=', coId).where('id', 'in', gathered.slice(i, i + 500)).execute()));
    }
    found.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rows = found.slice(opts.offset, opts.offset + opts.limit);
    return { people: await loadPeople(db, coId, rows), ...capped(gathered.length, opts.countUpTo) };
  }
  const walked = await walkNewestFirst(db, coId, q, opts.offset + opts.limit, opts.walkLimit ?? SEARCH_WALK_LIMIT);
  const rows = walked ? walked.slice(opts.offset, opts.offset + opts.limit) : await sortAllMatches(db, coId, q, opts.limit, opts.offset);
  // `distinct.length` people match at least: a count that stops below that is known already.
  const { total, totalIsAtLeast } =
    opts.countUpTo !== undefined && distinct.length > opts.countUpTo
      ? { total: opts.countUpTo, totalIsAtLeast: true }
      : await countRows(db, matching, opts.countUpTo);
  return { people: await loadPeople(db, coId, rows), total, totalIsAtLeast };
}

/** People walked newest first, in chunks of WALK_CHUNK, before a common term's matches are sorted in full instead. */
export const SEARCH_WALK_LIMIT = 20_000;
const WALK_CHUNK = 1000;

/**
 * The first `want` matches, newest first (fewer when the CO has no more), found by walking the
 * CO's people newest first, a chunk at a time through `co_person_co_created_idx`, and asking the
 * term index which of each chunk match. Undefined when `walkLimit` people were walked and
 * the page is still not full: the matches are old, and sorting them all costs less.
 */
async function walkNewestFirst(db: Executor, coId: string, q: string, want: number, walkLimit: number): Promise<CoPersonTable[] | undefined> {
  const matched: CoPersonTable[] = [];
  let after: CoPersonTable | undefined;
  for (let walked = 0; matched.length < want; ) {
    if (walked >= walkLimit) return undefined;
    const from = after;
    let chunkQuery = db.selectFrom('co_person').selectAll().where('co_id', '=', coId);
    if (from) chunkQuery = chunkQuery.where((eb) => eb.or([eb('created_at', '<', from.created_at), eb.and([eb('created_at', '=', from.created_at), eb('id', '>', from.id)])]));
    const chunk = await chunkQuery.orderBy('created_at', 'desc').orderBy('id').limit(WALK_CHUNK).execute();
    if (chunk.length === 0) break;
    walked += chunk.length;
    after = chunk[chunk.length - 1];
    const hits = await db
      .selectFrom('person_search_term as t')
      .select('t.person_id')
      .distinct()
      // By the people's own terms (person_search_term_person_term_idx), never the CO's whole prefix range.
      .where(neverIndexed(db, 't.co_id'), '=', coId)
      .where('t.person_id', 'in', chunk.map((r) => r.id))
      .where(termPrefixRange('t.term', q))
      .execute();
    const hit = new Set(hits.map((h) => h.person_id));
    matched.push(...chunk.filter((r) => hit.has(r.id)));
    if (chunk.length < WALK_CHUNK) break;
  }
  return matched.slice(0, want);
}

/** A page of all the people matching `q`, sorted newest first in the database (the matches gathered first, MATERIALIZED). */
async function sortAllMatches(db: Executor, coId: string, q: string, limit: number, offset: number): Promise<CoPersonTable[]> {
  return db
    .with(
      (cte) => cte('m').materialized(),
      (qb) => qb.selectFrom('person_search_term as t').select('t.person_id').distinct().where('t.co_id', '=', coId).where(termPrefixRange('t.term', q)),
    )
    .selectFrom('m')
    .innerJoin('co_person as p', 'p.id', 'm.person_id')
    .selectAll('p')
    .where('p.co_id', '=', coId)
    .orderBy('p.created_at', 'desc')
    .orderBy('p.id')
    .limit(limit)
    .offset(offset)
    .execute();
}

function capped(n: number, upTo: number | undefined): PageCount {
  return upTo !== undefined && n > upTo ? { total: upTo, totalIsAtLeast: true } : { total: n, totalIsAtLeast: false };
}
