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
  /**
   * 1 from just before Tessera adds the entry until it knows the outcome: still 1 at the next add
   * means the last add's outcome was lost, so an entry found there is the one it made (0/1).
   */
  add_pending: number;
}

/**
 * An LDAP server, a platform object: where it is, how Tessera reaches it and binds, and the
 * subtrees Tessera may write there. Only platform admins see or change it; CO admins pick it by
 * name for their LDAP targets when it is assigned to their CO.
 */
export interface LdapServerTable {
  id: string;
  name: string;
  url: string;
  /** 0/1. */
  start_tls: number;
  /** The CA bundle as JSON: an array of PEM lines (empty: the system's CAs). */
  tls_ca_certificates: string;
  /** 0/1. */
  tls_verify_hostname: number;
  bind_dn: string;
  /** Sealed with the SecretBox (`v1:…`); never shown. */
  bind_password: string;
  /** JSON array of DNs: a target's base DN must lie in one of them. */
  subtrees: string;
  created_at: string;
  updated_at: string;
}

/** Which COs may use which LDAP server. */
export interface LdapServerCoTable {
  server_id: string;
  co_id: string;
  assigned_at: string;
}

/**
 * An entry Tessera created (or adopted on a platform admin's word), by its entryUUID (RFC 4530) in
 * its directory: only such entries are ever changed wholesale or deleted.
 */
export interface LdapOwnedEntryTable {
  directory: string;
  entry_uuid: string;
  co_id: string;
  /** The target that created or adopted it; not a foreign key, so ownership outlives a target. */
  target_id: string;
  person_id: string;
  /** The DN when it was recorded (renames keep the entryUUID). */
  dn: string;
  origin: 'created' | 'adopted';
  recorded_at: string;
}

/** LDAP targets on which a platform admin switched on "adopt existing entries" (for migrations). */
export interface LdapTargetAdoptionTable {
  target_id: string;
  set_by: string;
  set_at: string;
}

export type LdapProvisionerTables = {
  ldap_entry_claim: LdapEntryClaimTable;
  ldap_server: LdapServerTable;
  ldap_server_co: LdapServerCoTable;
  ldap_owned_entry: LdapOwnedEntryTable;
  ldap_target_adoption: LdapTargetAdoptionTable;
};
