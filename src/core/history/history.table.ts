export interface HistoryRecordTable {
  id: string;
  co_id: string;
  person_id: string | null;
  group_id: string | null;
  service_id: string | null;
  actor_person_id: string | null;
  actor_api_user_id: string | null;
  /** Who acted, as shown: a username, "API user x" or "system". Kept so history survives deletions. */
  actor_label: string;
  action: string;
  comment: string;
  created_at: string;
}
