/** Local sign-in accounts, so the embedded default works without an identity provider. */
export interface LocalAccountTable {
  id: string;
  username: string;
  password_hash: string;
  created_at: string;
}

/** Web sessions live in the database so several app instances can share them. */
export interface WebSessionTable {
  /** SHA-256 of the cookie value; the cookie value itself is never stored. */
  id: string;
  username: string;
  auth_method: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}
