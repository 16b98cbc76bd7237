/** One object `tessera import comanage` brought in (migration 20261221000000-comanage-import). */
export interface ComanageImportMapTable {
  /** The COmanage database, `host:port/database`. */
  installation: string;
  comanage_co_id: string;
  /** co, person, name, identifier, email, group, membership, service, token-setting, token, password, history, ldap-dn. */
  kind: string;
  comanage_id: string;
  /** The Tessera CO the object is in. */
  co_id: string;
  tessera_id: string;
  /** SHA-256 (hex) of the values imported; a changed digest means the source changed. */
  digest: string;
  imported_at: string;
}
