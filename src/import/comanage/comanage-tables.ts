// The COmanage Registry v4 tables `tessera import comanage` reads, as COmanage defines them.
//
// Sources (Internet2/comanage-registry, 4.x):
// - app/Config/Schema/schema.xml: cm_cos, cm_co_people, cm_names, cm_identifiers,
//   cm_email_addresses, cm_co_groups, cm_co_group_members, cm_co_services, cm_history_records.
//   Changelog-enabled tables keep archived copies of a row in the same table: a copy has its
//   parent's id in `<model>_id` (e.g. cm_names.name_id) and `deleted` marks a removed row; the
//   current row has `deleted` false (or null) and no parent id.
// - app/AvailablePlugin/CoServiceToken/Config/Schema/schema.xml (the plugin removed in 4.1.0 by
//   commit 94d9795d "PasswordAuthenticator Enhancements (CO-1405)"): cm_co_service_token_settings,
//   cm_co_service_tokens (plaintext `token`, `token_type` '08' or '15', CoServiceTokenTypeEnum of
//   its Lib/enum.php). Neither table is changelog-enabled.
// - app/AvailablePlugin/PasswordAuthenticator/Config/Schema/schema.xml: cm_passwords
//   (`password_type`: PasswordEncodingEnum of its Lib/enum.php, CR crypt by php password_hash,
//   SH salted SHA-1 without the {SSHA} prefix, NO plaintext, EX external), and
//   cm_password_authenticators, whose `authenticator_id` CO Services name in cm_co_services.authenticator_id
//   (LdapProvisioner writes a password into `;app-<short label>` of each such service).
// - app/Plugin/LdapProvisioner/Config/Schema/schema.xml: cm_co_ldap_provisioner_targets,
//   cm_co_ldap_provisioner_dns (one DN per CO Person or CO Group and target).
// - app/Config/Schema/schema.xml: cm_co_provisioning_targets (joins an LDAP target to its CO).
//
// Booleans are PostgreSQL booleans and MySQL tinyint(1) (mysql2 returns 0/1); timestamps are UTC.

type Bool = boolean | number | null;
type Time = Date | string | null;

/** Columns every changelog-enabled COmanage table has. */
interface Changelog {
  revision: number | null;
  deleted: Bool;
  actor_identifier: string | null;
  created: Time;
  modified: Time;
}

export interface CmCo { id: number; name: string; description: string | null; status: string | null; created: Time; modified: Time }
export interface CmCoPerson extends Changelog { id: number; co_id: number; status: string | null; co_person_id: number | null }
export interface CmName extends Changelog {
  id: number; honorific: string | null; given: string | null; middle: string | null; family: string | null; suffix: string | null;
  type: string | null; language: string | null; co_person_id: number | null; org_identity_id: number | null; primary_name: Bool; name_id: number | null;
}
export interface CmIdentifier extends Changelog {
  id: number; identifier: string | null; type: string | null; login: Bool; status: string | null;
  co_person_id: number | null; org_identity_id: number | null; co_group_id: number | null; identifier_id: number | null;
}
export interface CmEmailAddress extends Changelog {
  id: number; mail: string | null; description: string | null; type: string | null; verified: Bool;
  co_person_id: number | null; org_identity_id: number | null; email_address_id: number | null;
}
export interface CmCoGroup extends Changelog {
  id: number; co_id: number; cou_id: number | null; name: string; description: string | null; status: string | null; group_type: string | null; co_group_id: number | null;
}
export interface CmCoGroupMember extends Changelog {
  id: number; co_group_id: number; co_person_id: number; member: Bool; owner: Bool; valid_from: Time; valid_through: Time;
  co_group_nesting_id: number | null; co_group_member_id: number | null;
}
export interface CmCoService extends Changelog {
  id: number; co_id: number; cou_id: number | null; name: string; description: string | null; short_label: string | null; co_group_id: number | null;
  service_url: string | null; contact_email: string | null; logo_url: string | null; entitlement_uri: string | null;
  visibility: string | null; identifier_type: string | null; authenticator_id: number | null; status: string | null; co_service_id: number | null;
}
export interface CmHistoryRecord {
  id: number; co_person_id: number | null; co_group_id: number | null; co_service_id: number | null; actor_co_person_id: number | null;
  action: string | null; comment: string | null; created: Time; history_record_id: number | null; deleted: Bool; actor_identifier: string | null;
}
export interface CmCoServiceTokenSetting { id: number; co_service_id: number; enabled: Bool; token_type: string | null; created: Time; modified: Time }
export interface CmCoServiceToken { id: number; co_service_id: number; co_person_id: number; token: string | null; token_type: string | null; created: Time; modified: Time }
export interface CmPassword extends Changelog { id: number; password_authenticator_id: number | null; co_person_id: number | null; password: string | null; password_type: string | null; password_id: number | null }
/** PasswordAuthenticator's instance of an authenticator (cm_authenticators, app/Config/Schema/schema.xml), which CO Services name in `authenticator_id`. */
export interface CmPasswordAuthenticator { id: number; authenticator_id: number | null }
export interface CmCoProvisioningTarget { id: number; co_id: number; description: string | null; plugin: string | null; status: string | null }
export interface CmCoLdapProvisionerTarget { id: number; co_provisioning_target_id: number; serverurl: string | null; basedn: string | null; dn_attribute_name: string | null; dn_identifier_type: string | null }
export interface CmCoLdapProvisionerDn { id: number; co_ldap_provisioner_target_id: number; co_person_id: number | null; co_group_id: number | null; dn: string | null }

/** The COmanage database as Kysely sees it (fixed `cm_` prefix, COmanage's default). */
export interface ComanageDatabase {
  cm_cos: CmCo;
  cm_co_people: CmCoPerson;
  cm_names: CmName;
  cm_identifiers: CmIdentifier;
  cm_email_addresses: CmEmailAddress;
  cm_co_groups: CmCoGroup;
  cm_co_group_members: CmCoGroupMember;
  cm_co_services: CmCoService;
  cm_history_records: CmHistoryRecord;
  cm_co_service_token_settings: CmCoServiceTokenSetting;
  cm_co_service_tokens: CmCoServiceToken;
  cm_passwords: CmPassword;
  cm_password_authenticators: CmPasswordAuthenticator;
  cm_co_provisioning_targets: CmCoProvisioningTarget;
  cm_co_ldap_provisioner_targets: CmCoLdapProvisionerTarget;
  cm_co_ldap_provisioner_dns: CmCoLdapProvisionerDn;
}

/** Tables without which nothing can be imported. */
export const REQUIRED_TABLES = ['cm_cos', 'cm_co_people', 'cm_names', 'cm_identifiers', 'cm_email_addresses', 'cm_co_groups', 'cm_co_group_members', 'cm_co_services'] as const;
/** Tables of plugins an installation may not have had; each is read only when present. */
export const OPTIONAL_TABLES = ['cm_history_records', 'cm_co_service_token_settings', 'cm_co_service_tokens', 'cm_passwords', 'cm_password_authenticators', 'cm_co_provisioning_targets', 'cm_co_ldap_provisioner_targets', 'cm_co_ldap_provisioner_dns'] as const;
export type OptionalTable = (typeof OPTIONAL_TABLES)[number];
