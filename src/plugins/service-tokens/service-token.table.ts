export type GenerationPolicy = 'self_and_admins' | 'admins_only';

/** One per CO Service: whether people may have tokens for it, and of what kind. */
export interface ServiceTokenSettingTable {
  id: string;
  co_id: string;
  service_id: string;
  enabled: number;
  token_type: string;
  /** The administrator's definition (JSON) when token_type is `custom`. */
  custom_type: string | null;
  storage_scheme: string;
  /** Maximum lifetime in days; null means tokens do not expire unless the person chooses. */
  max_lifetime_days: number | null;
  max_tokens_per_person: number;
  generation: GenerationPolicy;
  /** 1 once an admin accepted the warning that legacy plaintext tokens are stored readable. */
  plaintext_acknowledged: number;
  /** Days before expiry at which the person is warned, e.g. "30,7,1". */
  expiry_warning_days: string;
  /** Notice kinds turned off for this service, comma-separated (created, revoked, expiring). */
  notices_off: string;
  /** Tokens unused for this many days are revoked (after a notice); null: never. */
  revoke_unused_after_days: number | null;
  created_at: string;
  updated_at: string;
}

export interface ServiceTokenTable {
  id: string;
  co_id: string;
  person_id: string;
  service_id: string;
  label: string;
  /** RFC 2307 `{SCHEME}…` string; the raw secret only for the legacy plaintext scheme. */
  hash: string;
  token_type: string;
  /** The type's definition (JSON) when the token was made, so it is read right after the setting changes. */
  token_type_def: string;
  storage_scheme: string;
  /** Prefix and last characters, enough to recognise a token, never enough to use it. */
  display_hint: string;
  /** Random value of the form that generated it, so a resubmitted form cannot mint a second token. */
  request_nonce: string;
  created_by_label: string;
  created_by_person_id: string | null;
  created_by_api_user_id: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_address: string | null;
  revoked_at: string | null;
  revoked_by_label: string | null;
  revoked_reason: string | null;
  /** When the expiry sweep saw this token expire and started its removal from targets. */
  expiry_handled_at: string | null;
}

/**
 * A credential with which a service that does not use LDAP asks Tessera whether a token is valid
 * for it. The key is shown once; only its SHA-256 is kept (it is 256 random bits).
 */
export interface ServiceVerifierTable {
  id: string;
  co_id: string;
  service_id: string;
  label: string;
  key_hash: string;
  created_by_label: string;
  created_at: string;
  revoked_at: string | null;
}

/** Which expiry warnings went out, so each is sent once whatever restarts happen. */
export interface ServiceTokenWarningTable {
  token_id: string;
  days: number;
  sent_at: string;
}

/**
 * The last use of a person's tokens for a service seen outside the verification API, by source
 * (`ldap`: a bind at the person's service entry, from slapd's authTimestamp). Per person and
 * service, not per token: a directory cannot tell which of the entry's values matched.
 */
export interface ServiceTokenExternalUseTable {
  co_id: string;
  person_id: string;
  service_id: string;
  source: string;
  last_used_at: string;
  recorded_at: string;
}

/** The unused-token policy's notice for a token: sent once per idle period (`idle_since`: its last use then). */
export interface ServiceTokenUnusedNoticeTable {
  token_id: string;
  idle_since: string;
  sent_at: string;
}

export type ServiceTokenTables = VerificationTables & {
  service_token_external_use: ServiceTokenExternalUseTable;
  service_token_unused_notice: ServiceTokenUnusedNoticeTable;
  service_token_warning: ServiceTokenWarningTable;
  service_verifier: ServiceVerifierTable;
  service_token_setting: ServiceTokenSettingTable;
  service_token: ServiceTokenTable;
};

/** One row (id 1): incremented by triggers on every change of services, token settings and verification keys. */
export interface ServiceTokenCacheVersionTable {
  id: number;
  version: number | string | bigint;
}

/** A failed (or reserved) verification attempt under a rate-limit key, at epoch milliseconds. */
export interface ServiceTokenVerifyFailureTable {
  id: string;
  key: string;
  at: number | string | bigint;
  /** 1 while the attempt's check is under way (a reservation), 0 once it failed. */
  pending: number;
}

/** The tables of the verification cache and the shared failure counters. */
export type VerificationTables = {
  service_token_cache_version: ServiceTokenCacheVersionTable;
  service_token_verify_failure: ServiceTokenVerifyFailureTable;
};
