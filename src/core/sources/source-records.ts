import type { PersonStatus } from '../people/person.table.ts';

/**
 * What a source says about one person: every source kind (COmanage SQL, SCIM, …) maps its own
 * records to this shape before the source writer (source-writer.ts) takes them. The lists are
 * complete: names, identifiers and emails of the person the source owns and that are not listed
 * are removed; those made in Tessera are left alone.
 */
export interface SourcePersonRecord {
  /** The person's id at the source (COmanage: the co_person id; SCIM: the resource id). */
  externalId: string;
  status: PersonStatus;
  names: SourceNameRecord[];
  identifiers: SourceIdentifierRecord[];
  emails: SourceEmailRecord[];
}

export interface SourceNameRecord {
  given: string;
  middle?: string | null;
  family?: string | null;
  suffix?: string | null;
  /** official, preferred, alternate, … */
  type: string;
  /** At most one name is primary; none listed primary makes the first one primary. */
  primary?: boolean;
}

export interface SourceIdentifierRecord {
  identifier: string;
  /** An identifier type; one the CO does not have yet is added to it. */
  type: string;
  /** Whether the identifier signs the person in (see the README's "Sign-in"). */
  login?: boolean;
}

export interface SourceEmailRecord {
  mail: string;
  type: string;
  verified?: boolean;
}

/**
 * What a source says about one group. `standard` groups are the source's own; `admins` and
 * `members` are mapped onto the CO's own groups of that type (their rows are never the source's:
 * admins memberships are added to the CO's admins group, the members group follows status).
 */
export interface SourceGroupRecord {
  externalId: string;
  name: string;
  description?: string;
  kind?: SourceGroupKind;
  status?: 'active' | 'suspended';
}

export type SourceGroupKind = 'standard' | 'admins' | 'members';

/** A group as the membership operations name it: its id at the source and, for system groups, its kind. */
export interface SourceGroupRef {
  externalId: string;
  kind?: SourceGroupKind;
}

/** One membership a source holds; windows are ISO timestamps, null for unbounded. */
export interface SourceMemberRecord {
  personExternalId: string;
  validFrom?: string | null;
  validThrough?: string | null;
  owner?: boolean;
}

/**
 * Everything a source holds for a CO at one moment (`complete: true`, a full run), or what
 * changed since the last run (`complete: false`, an incremental run: nobody is suspended and no
 * group removed for being absent). Each listed group carries its complete member list.
 */
export interface SourceSnapshot {
  complete: boolean;
  people: SourcePersonRecord[];
  groups: Array<SourceGroupRecord & { members: SourceMemberRecord[] }>;
  /** The mark the next incremental run starts from (e.g. the newest `modified` read), if the kind has one. */
  watermark?: string | null;
}
