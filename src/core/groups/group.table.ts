import type { SourceOwned } from '../sources/source.table.ts';

export type GroupType = 'standard' | 'admins' | 'members';

export interface CoGroupTable extends SourceOwned {
  id: string;
  co_id: string;
  name: string;
  description: string;
  status: 'active' | 'suspended';
  group_type: GroupType;
  created_at: string;
}

export interface CoGroupMemberTable extends SourceOwned {
  id: string;
  co_id: string;
  group_id: string;
  person_id: string;
  member: number;
  owner: number;
  /** ISO timestamps; null means unbounded. */
  valid_from: string | null;
  valid_through: string | null;
  created_at: string;
}
