import { defineErrorCodes } from '../../core/errors/app-error.ts';

export const SERVICE_TOKEN_ERRORS = defineErrorCodes({
  TOKENS_NOT_ENABLED: { kind: 'UNPROCESSABLE', message: 'Service tokens are not enabled for this service' },
  SERVICE_NOT_ACTIVE: { kind: 'UNPROCESSABLE', message: 'The service is suspended' },
  PERSON_MAY_NOT_USE_SERVICE: { kind: 'UNPROCESSABLE', message: 'This person may not use this service (status, group or visibility)' },
  GENERATION_ADMINS_ONLY: { kind: 'FORBIDDEN', message: 'Only administrators may generate tokens for this service' },
  TOKEN_LIMIT_REACHED: { kind: 'CONFLICT', message: 'The maximum number of tokens for this service is reached; replace or revoke one first' },
  TOKEN_NOT_FOUND: { kind: 'NOT_FOUND', message: 'No such service token' },
  TOKEN_ALREADY_REVOKED: { kind: 'CONFLICT', message: 'This token is revoked already' },
  TOKEN_ALREADY_SHOWN: { kind: 'CONFLICT', message: 'This form was submitted already; the token it made was shown once and cannot be shown again' },
  EXPIRY_BEYOND_MAXIMUM: { kind: 'BAD_REQUEST', message: 'The expiry is beyond the maximum lifetime this service allows' },
  EXPIRY_IN_PAST: { kind: 'BAD_REQUEST', message: 'The expiry must be in the future' },
  UNKNOWN_TOKEN_TYPE: { kind: 'BAD_REQUEST', message: 'Unknown token type' },
  UNKNOWN_STORAGE_SCHEME: { kind: 'BAD_REQUEST', message: 'Unknown storage scheme' },
  TOKEN_TYPE_TOO_WEAK_FOR_SCHEME: { kind: 'BAD_REQUEST', message: 'A token type under 80 bits of entropy may only be stored with argon2id (or as legacy plaintext)' },
  PLAINTEXT_REQUIRES_LEGACY_TYPE: { kind: 'BAD_REQUEST', message: 'Only the legacy token types may be stored as plaintext' },
  PLAINTEXT_NOT_ACKNOWLEDGED: { kind: 'BAD_REQUEST', message: 'Storing tokens as plaintext needs the warning to be accepted' },
  VERIFIER_NOT_FOUND: { kind: 'NOT_FOUND', message: 'No such verification key' },
  VERIFIER_AUTHENTICATION_REQUIRED: { kind: 'UNAUTHORIZED', message: 'A valid verification key is required (Authorization: Bearer <key>)' },
  FORWARD_AUTH_KEY_INVALID: { kind: 'FORBIDDEN', message: 'The proxy sent no valid verification key (X-Tessera-Verification-Key)' },
  FORWARD_AUTH_CREDENTIALS_REQUIRED: { kind: 'UNAUTHORIZED', message: 'A username and service token are required (HTTP Basic)' },
  VERIFY_RATE_LIMITED: { kind: 'TOO_MANY_REQUESTS', message: 'Too many failed verifications; wait and try again' },
});
