export interface ApiUserTable {
  id: string;
  co_id: string;
  username: string;
  /** `{ARGON2}`-style hash of the key; the key itself is shown once at creation. */
  key_hash: string;
  privileged: number;
  status: 'active' | 'suspended';
  valid_from: string | null;
  valid_through: string | null;
  /** Comma-separated IP addresses or CIDR ranges; empty means any. */
  allowed_addresses: string;
  created_at: string;
}
