import type { ApiUserTable } from '../core/api-users/api-user.table.ts';
import type { LocalAccountTable, WebSessionTable } from '../core/auth/auth.table.ts';
import type { CoTable } from '../core/cos/co.table.ts';
import type { CoGroupMemberTable, CoGroupTable } from '../core/groups/group.table.ts';
import type { SourceTable } from '../core/sources/source.table.ts';
import type { ScimTokenTable } from '../core/sources/scim/scim-token.table.ts';
import type { SweepMarkTable } from '../core/jobs/sweep-mark.table.ts';
import type { HistoryRecordTable } from '../core/history/history.table.ts';
import type {
  CoIdentifierTypeTable,
  CoPersonTable,
  EmailAddressTable,
  IdentifierTable,
  NameTable,
} from '../core/people/person.table.ts';
import type { PersonSearchTermTable } from '../core/people/person-search.table.ts';
import type { CoServiceTable } from '../core/co-services/co-service.table.ts';
import type { NotificationTable, OutboundEmailTable } from '../core/notifications/notification.table.ts';
import type { ComanageImportMapTable } from '../import/comanage/import-map.table.ts';
import type { ProvisioningJobTable, ProvisioningStateTable, ProvisioningTargetTable } from '../core/provisioning/provisioning.table.ts';

export interface CoreDatabase {
  co: CoTable;
  co_person: CoPersonTable;
  identifier: IdentifierTable;
  co_identifier_type: CoIdentifierTypeTable;
  name: NameTable;
  email_address: EmailAddressTable;
  co_group: CoGroupTable;
  co_group_member: CoGroupMemberTable;
  co_service: CoServiceTable;
  history_record: HistoryRecordTable;
  api_user: ApiUserTable;
  local_account: LocalAccountTable;
  web_session: WebSessionTable;
  provisioning_target: ProvisioningTargetTable;
  provisioning_job: ProvisioningJobTable;
  provisioning_state: ProvisioningStateTable;
  notification: NotificationTable;
  outbound_email: OutboundEmailTable;
  sweep_mark: SweepMarkTable;
  source: SourceTable;
  comanage_import_map: ComanageImportMapTable;
  scim_token: ScimTokenTable;
  person_search_term: PersonSearchTermTable;
}
