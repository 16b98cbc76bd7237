/** Local sign-in accounts, so the embedded default works without an identity provider. */
export interface LocalAccountTable {
  id: string;
  username: string;
  /** The username's key as a uid (`identifierKey('uid', …)`): unique, so `ada` and `ADA` are one account. */
  match_key: string;
  password_hash: string;
  created_at: string;
}

/** Web sessions live in the database so several app instances can share them. */
export interface WebSessionTable {
  /** SHA-256 of the cookie value; the cookie value itself is never stored. */
  id: string;
  /** The name as the sign-in method gave it (shown, logged); never used to find people. */
  username: string;
  /** `local`, `oidc`. */
  auth_method: string;
  /** The identifier type the method vouches for, and the name's key in it (`identifierKey`). */
  identifier_type: string;
  match_key: string;
  /** JSON array of the ids of the people the name was at sign-in: the session never reaches others. */
  person_ids: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}
