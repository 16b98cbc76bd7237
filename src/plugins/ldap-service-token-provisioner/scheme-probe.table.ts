/** The last scheme probe of an LDAP target's directory (see scheme-probe.ts). */
export interface LdapSchemeProbeTable {
  /** The LDAP target whose directory was probed. */
  ldap_target_id: string;
  co_id: string;
  /** Which settings were probed (a hash of URL, StartTLS, bind DN and base DN): others probe anew. */
  settings: string;
  checked_at: string;
  /** Comma-separated PasswordScheme ids the directory verified. */
  verified: string;
  /** Why the directory could not be probed; null when it was. */
  error: string | null;
}

export type SchemeProbeTables = {
  ldap_scheme_probe: LdapSchemeProbeTable;
};
