import type { SourceOwned } from '../sources/source.table.ts';

export const PERSON_STATUSES = [
  'active',
  'grace_period',
  'pending',
  'pending_approval',
  'pending_confirmation',
  'invited',
  'expired',
  'suspended',
  'locked',
  'declined',
  'denied',
  'duplicate',
  'deleted',
] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

export interface CoPersonTable extends SourceOwned {
  id: string;
  co_id: string;
  status: PersonStatus;
  created_at: string;
  updated_at: string;
}

export interface IdentifierTable extends SourceOwned {
  id: string;
  co_id: string;
  person_id: string;
  identifier: string;
  type: string;
  /**
   * The identifier's identity as the directory compares it (`identifierKey` of core/text.ts),
   * unique per CO and type (`identifier_co_type_key_uq`); sign-in and verification look it up.
   */
  match_key: string;
  /** 1 when this identifier maps an authenticated username to the person. */
  login: number;
  status: 'active' | 'suspended';
  created_at: string;
}

/** Identifier types a CO adds to the built-in ones. */
export interface CoIdentifierTypeTable {
  id: string;
  co_id: string;
  name: string;
}

export interface NameTable extends SourceOwned {
  id: string;
  co_id: string;
  person_id: string;
  given: string;
  middle: string | null;
  family: string | null;
  suffix: string | null;
  type: string;
  primary_name: number;
}

export interface EmailAddressTable extends SourceOwned {
  id: string;
  co_id: string;
  person_id: string;
  mail: string;
  type: string;
  verified: number;
}
