// Token types: how a token's secret is made, recognised and shown.
//
// A token is `prefix + body`, where body is the random characters followed by the checksum
// characters, cut into dash-separated groups for grouped types. The checksum is CRC-32 of the
// random characters (as ASCII), written big-endian in the type's own alphabet with a fixed width,
// as GitHub's `ghp_` tokens do: a scanner can tell a leaked token from noise offline, and a typo
// is caught before any hash is computed. CRC-32 catches every change of one character and every
// swap of neighbouring characters in the random part (both are bursts of at most 16 bits); the
// checksum characters themselves are compared as written.
//
// The canonical form of a token — what is hashed, stored for LDAP, and shown once — is the one
// `generateToken` returns, dashes included. `normalizeToken` maps what a person typed back to it,
// which the verification API can do; slapd cannot, it compares the bytes the client sends.

import { crc32 } from './crc32.ts';
import { isSlowScheme, type PasswordScheme } from '../hashing/password-schemes.ts';
import { systemRandom, type RandomSource } from './random-source.ts';

export const ALPHABETS = Object.freeze({
  /** Letters and digits, what COmanage's plaintext tokens used. */
  base62: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  /** Lowercase and digits without 0, o, 1 and l: 32 characters, 5 bits each, easy on a phone keyboard. */
  lowerUnambiguous: 'abcdefghijkmnpqrstuvwxyz23456789',
  /** Uppercase and digits without 0, O, 1 and I: 32 characters, for reading aloud or off paper. */
  upperUnambiguous: 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789',
  digits: '0123456789',
});

export interface TokenType {
  id: string;
  label: string;
  alphabet: string;
  /** Random characters; the prefix, checksum and dashes come on top. */
  length: number;
  /** Characters per dash-separated group of the body; null for one piece. */
  groupSize: number | null;
  prefix: string;
  checksum: boolean;
  /** Characters the checksum takes; 0 without one. */
  checksumLength: number;
  /** One of the two reference types kept for compatibility; only these may be stored as plaintext. */
  legacy: boolean;
  /** floor(length × log2(alphabet size)); prefix and checksum add none. */
  entropyBits: number;
  /**
   * What is left once the display hint is known (it is stored and shown): the random characters
   * the hint does not reveal, floor((length − revealed) × log2(alphabet size)). A checksummed
   * type's hint shows checksum characters first, which reveal nothing more. The storage floor and
   * the verification limits count these bits.
   */
  effectiveEntropyBits: number;
}

export interface TokenTypeDefinition {
  id: string;
  label: string;
  alphabet: string;
  length: number;
  groupSize?: number | null;
  prefix?: string;
  checksum?: boolean;
  legacy?: boolean;
}

/** Below this many bits a type may only be stored with a slow scheme or as legacy plaintext. */
export const MIN_ENTROPY_BITS_FOR_FAST_SCHEMES = 80;

// Bounds on definitions; token-type.schema.ts states the same ones for input from people.
export const TOKEN_TYPE_LIMITS = Object.freeze({
  minAlphabet: 10,
  maxAlphabet: 94,
  minLength: 8,
  maxLength: 128,
  minGroupSize: 2,
  maxGroupSize: 16,
  prefix: /^[a-z0-9_]{0,12}$/,
});

/** Printable ASCII without space and '-', which separates groups. */
const ALPHABET_CHAR = /^[\x21-\x2c\x2e-\x7e]$/;

/** Why a definition is unusable; null when it is fine. */
export function tokenTypeDefinitionProblem(d: TokenTypeDefinition): string | null {
  const L = TOKEN_TYPE_LIMITS;
  const chars = [...d.alphabet];
  if (!chars.every((c) => ALPHABET_CHAR.test(c))) return 'The alphabet may only hold printable ASCII characters other than space and "-"';
  if (new Set(chars).size !== chars.length) return 'The alphabet repeats a character';
  if (chars.length < L.minAlphabet || chars.length > L.maxAlphabet) return `The alphabet needs ${L.minAlphabet} to ${L.maxAlphabet} characters`;
  if (!Number.isInteger(d.length) || d.length < L.minLength || d.length > L.maxLength) return `The length must be ${L.minLength} to ${L.maxLength}`;
  const g = d.groupSize ?? null;
  if (g !== null && (!Number.isInteger(g) || g < L.minGroupSize || g > L.maxGroupSize)) return `The group size must be ${L.minGroupSize} to ${L.maxGroupSize}`;
  if (!L.prefix.test(d.prefix ?? '')) return 'The prefix may hold up to 12 lowercase letters, digits and "_"';
  return null;
}

/** Builds a frozen type from a definition; throws a RangeError when the definition is unusable. */
export function makeTokenType(d: TokenTypeDefinition): TokenType {
  const problem = tokenTypeDefinitionProblem(d);
  if (problem) throw new RangeError(problem);
  const checksum = d.checksum ?? false;
  return Object.freeze({
    id: d.id,
    label: d.label,
    alphabet: d.alphabet,
    length: d.length,
    groupSize: d.groupSize ?? null,
    prefix: d.prefix ?? '',
    checksum,
    checksumLength: checksum ? checksumWidth(d.alphabet.length) : 0,
    legacy: d.legacy ?? false,
    entropyBits: Math.floor(d.length * Math.log2(d.alphabet.length)),
    effectiveEntropyBits: Math.floor((d.length - revealedByHint(d.length, checksum ? checksumWidth(d.alphabet.length) : 0)) * Math.log2(d.alphabet.length)),
  });
}

/** Random characters the display hint shows: its last characters beyond the checksum's. */
function revealedByHint(length: number, checksumLength: number): number {
  return Math.max(0, Math.min(4, Math.floor(length / 4)) - checksumLength);
}

/**
 * The definition stored with each token (JSON), so a token is read with the type it was made
 * with, whatever the service's setting says later.
 */
export function definitionOf(type: TokenType): string {
  const { id, label, alphabet, length, groupSize, prefix, checksum, legacy } = type;
  return JSON.stringify({ id, label, alphabet, length, groupSize, prefix, checksum, legacy } satisfies TokenTypeDefinition);
}

/** The type a stored definition (see `definitionOf`) describes; undefined when it is unreadable. */
export function tokenTypeFromDefinition(json: string): TokenType | undefined {
  try {
    return makeTokenType(JSON.parse(json) as TokenTypeDefinition);
  } catch {
    return undefined;
  }
}

/** Digits of base `radix` needed for every 32-bit value. */
function checksumWidth(radix: number): number {
  let width = 0;
  for (let span = 1; span < 2 ** 32; span *= radix) width++;
  return width;
}

export const DEFAULT_TOKEN_TYPE_ID = 'base62-prefixed';

export const TOKEN_TYPES: readonly TokenType[] = Object.freeze([
  makeTokenType({
    id: 'base62-prefixed',
    label: 'Prefixed: tst_ and 24 letters and digits with checksum (142 bits)',
    alphabet: ALPHABETS.base62,
    length: 24,
    prefix: 'tst_',
    checksum: true,
  }),
  makeTokenType({
    id: 'phone-grouped',
    label: 'Phone-friendly: 28 lowercase letters and digits in groups of 4 (140 bits)',
    alphabet: ALPHABETS.lowerUnambiguous,
    length: 28,
    groupSize: 4,
  }),
  makeTokenType({
    id: 'short-grouped',
    label: 'Short: 12 lowercase letters and digits in groups of 4 (60 bits; Argon2id only)',
    alphabet: ALPHABETS.lowerUnambiguous,
    length: 12,
    groupSize: 4,
  }),
  // The reference's two types: base64 of random bytes with '+' and '/' dropped, cut to 8 or 15.
  makeTokenType({ id: 'legacy-plain-8', label: 'Plain text, 8 characters (legacy)', alphabet: ALPHABETS.base62, length: 8, legacy: true }),
  makeTokenType({ id: 'legacy-plain-15', label: 'Plain text, 15 characters (legacy)', alphabet: ALPHABETS.base62, length: 15, legacy: true }),
]);

export function findTokenType(id: string): TokenType | undefined {
  return TOKEN_TYPES.find((t) => t.id === id);
}

export type StorageRuleViolation = 'TOKEN_TYPE_TOO_WEAK_FOR_SCHEME' | 'PLAINTEXT_REQUIRES_LEGACY_TYPE';

/**
 * The security floor: plaintext only for the legacy types; under 80 effective bits (what the
 * display hint leaves secret: `effectiveEntropyBits`) only a slow scheme (argon2id) or, for a
 * legacy type, plaintext. Null when the pair is allowed.
 */
export function storageRule(type: TokenType, scheme: PasswordScheme): StorageRuleViolation | null {
  if (scheme === 'PLAINTEXT') return type.legacy ? null : 'PLAINTEXT_REQUIRES_LEGACY_TYPE';
  if (type.effectiveEntropyBits < MIN_ENTROPY_BITS_FOR_FAST_SCHEMES && !isSlowScheme(scheme)) return 'TOKEN_TYPE_TOO_WEAK_FOR_SCHEME';
  return null;
}

/**
 * A new token of the type, in canonical form. Each character is uniform over the alphabet:
 * random bytes at or above the largest multiple of the alphabet size are thrown away (rejection
 * sampling) instead of being reduced modulo the size, which would favour the first characters.
 */
export function generateToken(type: TokenType, random: RandomSource = systemRandom): string {
  const size = type.alphabet.length;
  const limit = 256 - (256 % size);
  let body = '';
  for (let batches = 0; body.length < type.length; batches++) {
    if (batches === 100) throw new Error('The random source keeps giving unusable bytes');
    const wanted = type.length - body.length;
    const bytes = random(Math.ceil((wanted * 256) / limit) + 4);
    for (const byte of bytes) {
      if (byte < limit) body += type.alphabet.charAt(byte % size);
      if (body.length === type.length) break;
    }
  }
  return format(type, body + checksumOf(type, body));
}

export type TokenFormatProblem = 'PREFIX' | 'LENGTH' | 'ALPHABET' | 'GROUPING' | 'CHECKSUM';

/**
 * Whether a string is a well-formed token of the type, exactly as generated: prefix, length,
 * alphabet, dash positions and checksum, checked in that order. Null when it is; otherwise the
 * first problem found. Says nothing about whether the token was ever issued.
 */
export function checkTokenFormat(type: TokenType, token: string): TokenFormatProblem | null {
  if (!token.startsWith(type.prefix)) return 'PREFIX';
  const rest = token.slice(type.prefix.length);
  const body = type.groupSize === null ? rest : rest.replaceAll('-', '');
  if (body.length !== type.length + type.checksumLength) return 'LENGTH';
  for (const c of body) if (!type.alphabet.includes(c)) return 'ALPHABET';
  if (format(type, body) !== token) return 'GROUPING';
  const random = body.slice(0, type.length);
  if (body.slice(type.length) !== checksumOf(type, random)) return 'CHECKSUM';
  return null;
}

// Dashes as typed on phones after autocorrection: hyphen-minus, the Unicode hyphens and dashes, minus.
const TYPED_SEPARATORS = /[\s\-\u2010-\u2015\u2212]/gu;

/**
 * The canonical form of what a person typed or pasted, or null when it cannot be a token of the
 * type. Tolerates surrounding whitespace and the prefix in any case; for grouped types also
 * missing, extra or autocorrected dashes and spaces between groups; for single-case alphabets also
 * the wrong case (phones capitalise the first letter).
 */
export function normalizeToken(type: TokenType, input: string): string | null {
  const text = input.trim();
  // The prefix carries no entropy, so its case is forgiven for every type.
  if (text.slice(0, type.prefix.length).toLowerCase() !== type.prefix) return null;
  let body = text.slice(type.prefix.length);
  const fold = caseFolding(type.alphabet);
  if (type.groupSize !== null) body = body.replace(TYPED_SEPARATORS, '');
  if (fold) body = fold(body);
  const token = type.groupSize === null ? type.prefix + body : format(type, body);
  return checkTokenFormat(type, token) === null ? token : null;
}

/** How many trailing characters a hint shows: at most 4, and at most a quarter of the random length. */
export function hintLength(type: TokenType): number {
  return Math.min(4, Math.floor(type.length / 4));
}

/** Types at or above this many effective bits cannot be guessed online: verification checks them before any per-identifier limit. */
export const MIN_ENTROPY_BITS_UNGUESSABLE = 100;

/**
 * What may be stored and shown to tell tokens apart: the prefix, '…' and the last `hintLength`
 * characters of the body (for checksummed types these are checksum characters). Throws a
 * RangeError when the token is not well-formed.
 */
export function displayHint(type: TokenType, token: string): string {
  if (checkTokenFormat(type, token) !== null) throw new RangeError('Not a well-formed token of this type');
  const body = token.slice(type.prefix.length).replaceAll('-', '');
  return `${type.prefix}…${body.slice(-hintLength(type))}`;
}

function checksumOf(type: TokenType, random: string): string {
  if (!type.checksum) return '';
  const size = type.alphabet.length;
  let value = crc32(Buffer.from(random, 'latin1'));
  let out = '';
  for (let i = 0; i < type.checksumLength; i++) {
    out = type.alphabet.charAt(value % size) + out;
    value = Math.floor(value / size);
  }
  return out;
}

function format(type: TokenType, body: string): string {
  if (type.groupSize === null) return type.prefix + body;
  const groups: string[] = [];
  for (let i = 0; i < body.length; i += type.groupSize) groups.push(body.slice(i, i + type.groupSize));
  return type.prefix + groups.join('-');
}

/** Folds case for an alphabet whose letters are all one case; null when case matters. */
function caseFolding(alphabet: string): ((s: string) => string) | null {
  const lower = /[a-z]/.test(alphabet);
  const upper = /[A-Z]/.test(alphabet);
  if (lower && !upper) return (s) => s.toLowerCase();
  if (upper && !lower) return (s) => s.toUpperCase();
  return null;
}
