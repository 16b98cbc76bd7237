/**
 * Which person's entry a DN of a directory is, for every CO and LDAP target writing there: two
 * people (of one CO, or of two COs sharing a base DN) can never be provisioned into one entry.
 */
export interface LdapEntryClaimTable {
  /** The directory, as `ldap[s]://host:port` in lowercase (see `directoryKey`). */
  directory: string;
  /** The entry's DN as the directory compares it (`dnKey`: NFC, lowercase, one spelling). */
  dn_key: string;
  /** The DN as written, for messages. */
  dn: string;
  co_id: string;
  target_id: string;
  person_id: string;
  claimed_at: string;
}

export type LdapProvisionerTables = {
  ldap_entry_claim: LdapEntryClaimTable;
};
