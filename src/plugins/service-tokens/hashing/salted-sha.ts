// `{SSHA512}` (OpenLDAP's pw-sha2 module) and `{SSHA}` (built into slapd): base64(H(secret + salt) + salt).
//
// slappasswd writes an 8-byte salt for {SSHA512} and a 4-byte one for {SSHA}; slapd reads whatever
// follows the digest as the salt, so any length of at least one byte verifies. Tessera writes 16
// bytes (128 bits, the NIST SP 800-132 minimum for a salt).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '../formats/random-source.ts';

export type SaltedShaAlgorithm = 'sha512' | 'sha1';

const DIGEST_BYTES: Record<SaltedShaAlgorithm, number> = { sha512: 64, sha1: 20 };
export const SALTED_SHA_DEFAULT_SALT_BYTES = 16;
/** Bounds for salts Tessera writes (4 is what slappasswd uses for {SSHA}); reading accepts any salt of at least one byte, as slapd does. */
export const SALTED_SHA_MIN_SALT_BYTES = 4;
export const SALTED_SHA_MAX_SALT_BYTES = 64;

// Canonical padded base64, which slapd's decoder (lutil_b64_pton) expects; Buffer.from would
// silently skip stray characters.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeStrictBase64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** The value after the `{SCHEME}` prefix. */
export function hashSaltedSha(algorithm: SaltedShaAlgorithm, secret: Uint8Array, random: RandomSource, saltBytes = SALTED_SHA_DEFAULT_SALT_BYTES): string {
  if (!Number.isInteger(saltBytes) || saltBytes < SALTED_SHA_MIN_SALT_BYTES || saltBytes > SALTED_SHA_MAX_SALT_BYTES) {
    throw new RangeError(`Salt length must be ${SALTED_SHA_MIN_SALT_BYTES}..${SALTED_SHA_MAX_SALT_BYTES} bytes`);
  }
  const salt = Buffer.from(random(saltBytes));
  const digest = createHash(algorithm).update(secret).update(salt).digest();
  return Buffer.concat([digest, salt]).toString('base64');
}

/** Checks a value after the `{SCHEME}` prefix; false for anything malformed. */
export function verifySaltedSha(algorithm: SaltedShaAlgorithm, secret: Uint8Array, encoded: string): boolean {
  const raw = decodeStrictBase64(encoded);
  const size = DIGEST_BYTES[algorithm];
  if (!raw || raw.length <= size) return false;
  const expected = raw.subarray(0, size);
  const actual = createHash(algorithm).update(secret).update(raw.subarray(size)).digest();
  return timingSafeEqual(actual, expected);
}
