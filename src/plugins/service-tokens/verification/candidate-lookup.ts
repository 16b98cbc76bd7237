import { CompiledQuery } from 'kysely';
import { identifierKey } from '../../../core/text.ts';
import type { PersonStatus } from '../../../core/people/person.table.ts';
import type { CoTable } from '../../../core/cos/co.table.ts';
import { preparedOnPostgres } from '../../../db/postgres-named-statements.ts';
import { takesRowLocks } from '../../../db/transaction.ts';
import type { TokenDb } from '../token-context.ts';

/** A live token the presented one may be, with its person, the CO's status and the cache version. */
export interface Candidate {
  id: string;
  hash: string;
  tokenTypeDef: string;
  displayHint: string;
  expiresAt: string | null;
  personId: string;
  personStatus: PersonStatus;
  /** The identifier as Tessera stores it. */
  identifier: string;
}

/** What one lookup found: the candidates, whether their CO is suspended, and the cache version it read. */
export interface CandidateLookup {
  candidates: Candidate[];
  coSuspended: boolean;
  /** `service_token_cache_version.version`, read in the same statement (see VerificationCache). */
  version: string;
}

interface Row {
  id: string | null;
  hash: string;
  token_type_def: string;
  display_hint: string;
  expires_at: string | null;
  person_id: string;
  person_status: PersonStatus;
  identifier: string;
  co_status: CoTable['status'] | null;
  cache_version: string | number | bigint;
}

/*
 * One statement, written once: the version row left-joined to the person an active identifier of
 * the service's type names (unique index identifier_co_type_key_uq), their live tokens for the
 * service (index service_token_person_idx) and their CO. The version row makes the statement
 * answer one row even when nothing matches. The live-token test is `liveToken`'s (usable-token.ts).
 * Parameters: co id, service id, identifier type, match key, now (ISO 8601).
 */
const LOOKUP_SQL = `select t.id, t.hash, t.token_type_def, t.display_hint, t.expires_at,
  p.id as person_id, p.status as person_status, i.identifier, c.status as co_status, v.version as cache_version
from service_token_cache_version v
left join identifier i on i.co_id = ? and i.type = ? and i.match_key = ? and i.status = 'active'
left join co_person p on p.id = i.person_id
left join co c on c.id = p.co_id
left join service_token t on t.co_id = i.co_id and t.person_id = p.id and t.service_id = ?
  and t.revoked_at is null and (t.expires_at is null or t.expires_at > ?)
where v.id = 1`;

/** `LOOKUP_SQL` with PostgreSQL's numbered placeholders, a named statement: each connection plans it once. */
const LOOKUP_SQL_POSTGRES = (() => {
  let n = 0;
  return preparedOnPostgres(LOOKUP_SQL.replace(/\?/g, () => `$${++n}`));
})();

/**
 * Finds, in one indexed statement, the live tokens for `serviceId` of the person whose active
 * identifier of `identifierType` matches `identifier` (by its match key, `identifierKey`), with
 * the person's status, whether the CO is suspended, and the verification cache's version.
 * `now` decides expiry: a token expiring at `now` exactly has expired.
 */
export async function findCandidates(
  db: TokenDb,
  lookup: { coId: string; serviceId: string; identifierType: string; identifier: string },
  now: Date,
): Promise<CandidateLookup> {
  const params = [lookup.coId, lookup.identifierType, identifierKey(lookup.identifierType, lookup.identifier), lookup.serviceId, now.toISOString()];
  const text = takesRowLocks(db) ? LOOKUP_SQL_POSTGRES : LOOKUP_SQL;
  const { rows } = await db.executeQuery<Row>(CompiledQuery.raw(text, params));
  const first = rows[0];
  if (!first) throw new Error('service_token_cache_version has no row: the service-tokens migrations did not run');
  const candidates: Candidate[] = [];
  for (const r of rows) {
    if (r.id === null) continue;
    candidates.push({
      id: r.id,
      hash: r.hash,
      tokenTypeDef: r.token_type_def,
      displayHint: r.display_hint,
      expiresAt: r.expires_at,
      personId: r.person_id,
      personStatus: r.person_status,
      identifier: r.identifier,
    });
  }
  return { candidates, coSuspended: first.co_status !== null && first.co_status !== 'active', version: String(first.cache_version) };
}
