/** A bearer token of a SCIM source (migration 20261222000000-scim-tokens). */
export interface ScimTokenTable {
  id: string;
  co_id: string;
  source_id: string;
  label: string;
  /** `sha256:<hex>` of the secret; the secret itself is never stored. */
  token_hash: string;
  /** The secret's last four characters, shown to tell tokens apart. */
  hint: string;
  created_at: string;
  /** Updated at most once a minute per token (see scim-auth.ts). */
  last_used_at: string | null;
  revoked_at: string | null;
}
