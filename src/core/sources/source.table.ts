/**
 * A source: a registry that owns some of a CO's people and groups (COmanage Registry through its
 * SqlProvisioner tables, a SCIM client, …). Migration `20261220000000-sources`.
 */
export type SourceStatus = 'active' | 'finalised' | 'terminated';

export interface SourceTable {
  id: string;
  co_id: string;
  /** `comanage-sql`, `scim`, … (see source-kinds.ts). */
  kind: string;
  /** Unique per CO (`source_co_name_uq`). */
  name: string;
  /** The kind's settings as JSON, sealed with the SecretBox (they hold credentials: a database URL, a bearer token). */
  settings_encrypted: string;
  status: SourceStatus;
  last_run_at: string | null;
  /** When the last full reconciliation finished; the nightly run goes by it. */
  last_full_run_at: string | null;
  /** JSON of `SourceRunCounts`. */
  last_run_counts: string | null;
  last_error: string | null;
  /** Where an incremental run starts: the kind's own mark (e.g. the newest `modified` seen). */
  watermark: string | null;
  /** JSON `{ phase, done, total, at }` while a run is under way; null otherwise. */
  progress: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The ownership columns every table a source writes carries (co_person, identifier, name,
 * email_address, co_group, co_group_member): null on rows made in Tessera.
 */
export interface SourceOwned {
  source_id?: string | null;
  /** The object's id at the source (a COmanage co_person id, a SCIM id, …). */
  external_id?: string | null;
}

/** The tables whose rows a source owns (each has SourceOwned's columns). */
export const SOURCE_OWNED_TABLES = ['co_person', 'identifier', 'name', 'email_address', 'co_group', 'co_group_member'] as const;
