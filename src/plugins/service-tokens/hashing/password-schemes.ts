// How a token's secret is stored: RFC 2307 `{SCHEME}` strings exactly as OpenLDAP's slapd writes
// and checks them, so the same string serves the verification API and an LDAP `userPassword`.
//
// Chosen parameters, and why (median times per hash on a 2-CPU AMD EPYC build box):
// - Tessera only lets a token type under 80 bits of entropy be stored with argon2id (or as legacy
//   plaintext); see `storageRule` in token-types.ts. For every other type the secret's entropy,
//   not the work factor, is what stops offline guessing: 2^80 guesses at even one SHA-512 each is
//   out of reach. The work factors of the fast schemes are therefore the well-known defaults, not
//   password-grade ones, because slapd pays them on every bind (mail clients bind per connection).
// - {SSHA512} / {SSHA}: one hash, 16-byte salt.
// - {CRYPT} sha512-crypt: 5000 rounds, crypt(3)'s default (5.5 ms in libxcrypt, 11–12 ms here),
//   written out as `rounds=5000$` so the cost is visible in the value; 16-character salt.
// - {PBKDF2-SHA512}: 10 000 iterations, slapd's own default (12 ms).
// - {ARGON2} argon2id: m=19456 KiB, t=2, p=1, OWASP's minimum (20 ms, 19 MiB per concurrent check).
// Only argon2id counts as slow: sha512-crypt and PBKDF2 are iterated but not memory-hard, so a
// GPU runs them in parallel cheaply, and at the counts above they add only about 12–14 bits.

import { timingSafeEqual, createHash } from 'node:crypto';
import { ARGON2_DEFAULT_PARAMETERS, hashArgon2id, verifyArgon2, type Argon2Parameters } from './argon2id.ts';
import { hashPbkdf2Sha512, PBKDF2_DEFAULT_ITERATIONS, verifyPbkdf2Sha512 } from './pbkdf2-sha512.ts';
import { systemRandom, type RandomSource } from '../formats/random-source.ts';
import { hashSaltedSha, SALTED_SHA_DEFAULT_SALT_BYTES, verifySaltedSha } from './salted-sha.ts';
import {
  CRYPT_ALPHABET,
  parseSha512CryptSetting,
  SHA512_CRYPT_DEFAULT_ROUNDS,
  SHA512_CRYPT_DIGEST_LENGTH,
  SHA512_CRYPT_MAX_SALT_LENGTH,
  SHA512_CRYPT_MIN_ROUNDS,
  sha512CryptAsync,
} from './sha512-crypt.ts';

export const PASSWORD_SCHEMES = ['SSHA512', 'CRYPT-SHA512', 'ARGON2ID', 'PBKDF2-SHA512', 'SSHA', 'PLAINTEXT'] as const;
export type PasswordScheme = (typeof PASSWORD_SCHEMES)[number];

export interface PasswordSchemeInfo {
  id: PasswordScheme;
  /** For the settings form. */
  label: string;
  /** The RFC 2307 prefix; null for plaintext, which slapd recognises by the absence of one. */
  prefix: string | null;
  /** Kept for compatibility only; the UI warns when one is chosen. */
  legacy: boolean;
  /** Memory-hard; the only kind allowed for token types under 80 bits (see `storageRule`). */
  slow: boolean;
  /** The slapd module that must be loaded (`moduleload`) for slapd to check it; null when built in. */
  slapdModule: string | null;
}

export const SCHEMES: Readonly<Record<PasswordScheme, PasswordSchemeInfo>> = Object.freeze({
  SSHA512: { id: 'SSHA512', label: 'Salted SHA-512 ({SSHA512})', prefix: '{SSHA512}', legacy: false, slow: false, slapdModule: 'pw-sha2' },
  'CRYPT-SHA512': { id: 'CRYPT-SHA512', label: 'SHA-512 crypt ({CRYPT} $6$)', prefix: '{CRYPT}', legacy: false, slow: false, slapdModule: null },
  ARGON2ID: { id: 'ARGON2ID', label: 'Argon2id ({ARGON2})', prefix: '{ARGON2}', legacy: false, slow: true, slapdModule: 'argon2' },
  'PBKDF2-SHA512': { id: 'PBKDF2-SHA512', label: 'PBKDF2 with SHA-512 ({PBKDF2-SHA512})', prefix: '{PBKDF2-SHA512}', legacy: false, slow: false, slapdModule: 'pw-pbkdf2' },
  SSHA: { id: 'SSHA', label: 'Salted SHA-1 ({SSHA}, legacy)', prefix: '{SSHA}', legacy: true, slow: false, slapdModule: null },
  PLAINTEXT: { id: 'PLAINTEXT', label: 'Plain text (legacy)', prefix: null, legacy: true, slow: false, slapdModule: null },
});

export function isPasswordScheme(value: string): value is PasswordScheme {
  return (PASSWORD_SCHEMES as readonly string[]).includes(value);
}

/** True only for argon2id; see the file comment for why sha512-crypt and PBKDF2 are not. */
export function isSlowScheme(scheme: PasswordScheme): boolean {
  return SCHEMES[scheme].slow;
}

export interface HashOptions {
  random?: RandomSource;
  /** {SSHA512} and {SSHA}; 4..64, default 16. */
  saltBytes?: number;
  /** {CRYPT}; 1000..999999999, default 5000. */
  cryptRounds?: number;
  /** {PBKDF2-SHA512}; 1000..2000000, default 10000. */
  pbkdf2Iterations?: number;
  /** {ARGON2}; default m=19456, t=2, p=1. */
  argon2?: Argon2Parameters;
}

/** Longest secret accepted, in UTF-8 bytes; sha512-crypt's cost grows with the secret's length. */
export const MAX_SECRET_BYTES = 1024;

/**
 * Hashes a secret into the stored string of the scheme (for PLAINTEXT, the secret itself).
 * Throws a RangeError for an empty or overlong secret, one containing NUL (slapd's {CRYPT} check
 * cannot see past it), a plaintext secret slapd would read as `{SCHEME}...`, or options out of range.
 */
export async function hashSecret(secret: string, scheme: PasswordScheme, options: HashOptions = {}): Promise<string> {
  const bytes = secretBytes(secret);
  if (!bytes) throw new RangeError(`The secret must be 1..${MAX_SECRET_BYTES} bytes without NUL`);
  const random = options.random ?? systemRandom;
  switch (scheme) {
    case 'SSHA512':
      return `{SSHA512}${hashSaltedSha('sha512', bytes, random, options.saltBytes ?? SALTED_SHA_DEFAULT_SALT_BYTES)}`;
    case 'SSHA':
      return `{SSHA}${hashSaltedSha('sha1', bytes, random, options.saltBytes ?? SALTED_SHA_DEFAULT_SALT_BYTES)}`;
    case 'CRYPT-SHA512': {
      const rounds = options.cryptRounds ?? SHA512_CRYPT_DEFAULT_ROUNDS;
      // 256 is a multiple of 64, so taking the low six bits of each byte is uniform.
      const salt = Array.from(random(SHA512_CRYPT_MAX_SALT_LENGTH), (b) => CRYPT_ALPHABET[b & 0x3f]).join('');
      const setting = `$6$rounds=${rounds}$${salt}`;
      if (!parseSha512CryptSetting(setting)) throw new RangeError(`sha512-crypt rounds must be ${SHA512_CRYPT_MIN_ROUNDS}..999999999`);
      return `{CRYPT}${await sha512CryptAsync(bytes, setting)}`;
    }
    case 'PBKDF2-SHA512':
      return `{PBKDF2-SHA512}${await hashPbkdf2Sha512(bytes, random, options.pbkdf2Iterations ?? PBKDF2_DEFAULT_ITERATIONS)}`;
    case 'ARGON2ID':
      return `{ARGON2}${await hashArgon2id(bytes, random, options.argon2 ?? ARGON2_DEFAULT_PARAMETERS)}`;
    case 'PLAINTEXT':
      if (looksLikeScheme(secret)) throw new RangeError('slapd would read this plaintext secret as a {SCHEME} value');
      return secret;
  }
}

/**
 * The scheme of a stored string, by its prefix (case-insensitive, as slapd matches it); PLAINTEXT
 * for a value without one; null for an unknown or unsupported `{SCHEME}` (including {CRYPT}
 * values other than `$6$`). `ARGON2ID` names the {ARGON2} scheme as a whole: values slapd wrote
 * with argon2i or argon2d are memory-hard too and verify as well.
 */
export function schemeOf(stored: string): PasswordScheme | null {
  if (stored === '') return null;
  const upper = stored.slice(0, 16).toUpperCase();
  if (upper.startsWith('{SSHA512}')) return 'SSHA512';
  if (upper.startsWith('{SSHA}')) return 'SSHA';
  if (upper.startsWith('{PBKDF2-SHA512}')) return 'PBKDF2-SHA512';
  if (upper.startsWith('{ARGON2}')) return 'ARGON2ID';
  if (upper.startsWith('{CRYPT}')) return stored.startsWith('$6$', '{CRYPT}'.length) ? 'CRYPT-SHA512' : null;
  return looksLikeScheme(stored) ? null : 'PLAINTEXT';
}

/**
 * Whether `secret` matches the stored string. Never throws: a malformed, unknown or over-limit
 * stored value, or an empty, overlong or NUL-containing secret, gives false. Comparisons take the
 * same time wherever the values first differ.
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  try {
    if (typeof secret !== 'string' || typeof stored !== 'string') return false;
    const bytes = secretBytes(secret);
    const scheme = schemeOf(stored);
    if (!bytes || !scheme) return false;
    const value = stored.slice(SCHEMES[scheme].prefix?.length ?? 0);
    switch (scheme) {
      case 'SSHA512':
        return verifySaltedSha('sha512', bytes, value);
      case 'SSHA':
        return verifySaltedSha('sha1', bytes, value);
      case 'PBKDF2-SHA512':
        return await verifyPbkdf2Sha512(bytes, value);
      case 'ARGON2ID':
        return await verifyArgon2(bytes, value);
      case 'CRYPT-SHA512':
        return await verifySha512Crypt(bytes, value);
      case 'PLAINTEXT':
        // Equal digests mean equal strings; comparing digests hides the stored value's length too.
        return timingSafeEqual(createHash('sha512').update(bytes).digest(), createHash('sha512').update(stored, 'utf8').digest());
    }
  } catch {
    return false;
  }
}

/** The most rounds a stored {CRYPT} value may ask for; more is refused rather than computed. */
export const SHA512_CRYPT_VERIFY_MAX_ROUNDS = 1_000_000;

async function verifySha512Crypt(secret: Uint8Array, value: string): Promise<boolean> {
  const setting = parseSha512CryptSetting(value);
  if (!setting || setting.rounds > SHA512_CRYPT_VERIFY_MAX_ROUNDS) return false;
  const expected = Buffer.from(value, 'latin1');
  const end = value.lastIndexOf('$');
  if (value.length - end - 1 !== SHA512_CRYPT_DIGEST_LENGTH) return false;
  const actual = Buffer.from(await sha512CryptAsync(secret, value), 'latin1');
  // crypt(3) repeats the setting, so the whole strings compare; slapd does the same (strcmp).
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function secretBytes(secret: string): Buffer | null {
  if (typeof secret !== 'string' || secret === '' || secret.includes('\0')) return null;
  const bytes = Buffer.from(secret, 'utf8');
  return bytes.length <= MAX_SECRET_BYTES ? bytes : null;
}

/** slapd refuses a value that starts with '{' and holds a '}' as an unknown scheme, not as plaintext. */
function looksLikeScheme(value: string): boolean {
  return value.startsWith('{') && value.includes('}');
}
