// `{PBKDF2-SHA512}` as OpenLDAP's pw-pbkdf2 module writes and checks it:
//   {PBKDF2-SHA512}<iterations>$<ab64 salt>$<ab64 derived key>
// "ab64" is passlib's adapted base64: the standard alphabet with '.' for '+', no '=' padding.
// slapd insists on a 16-byte salt and a 64-byte key, and turns every '.' back into '+' before
// decoding (its writer forgets to convert a leading '+', so '+' must be read as well).

import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { RandomSource } from '../formats/random-source.ts';
import { decodeStrictBase64 } from './salted-sha.ts';

const pbkdf2Async = promisify(pbkdf2);

export const PBKDF2_SALT_BYTES = 16;
export const PBKDF2_KEY_BYTES = 64;
/** slapd's default; why it is Tessera's too is explained in password-schemes.ts. */
export const PBKDF2_DEFAULT_ITERATIONS = 10_000;
export const PBKDF2_MIN_ITERATIONS = 1_000;
/** The most a stored value may ask for; more is refused rather than computed. */
export const PBKDF2_MAX_ITERATIONS = 2_000_000;

export function toAdaptedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '').replaceAll('+', '.');
}

export function fromAdaptedBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+./]+$/.test(text) || text.length % 4 === 1) return null;
  const padded = text.replaceAll('.', '+') + '='.repeat((4 - (text.length % 4)) % 4);
  return decodeStrictBase64(padded);
}

/** The value after the `{PBKDF2-SHA512}` prefix. */
export async function hashPbkdf2Sha512(secret: Uint8Array, random: RandomSource, iterations = PBKDF2_DEFAULT_ITERATIONS): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < PBKDF2_MIN_ITERATIONS || iterations > PBKDF2_MAX_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be ${PBKDF2_MIN_ITERATIONS}..${PBKDF2_MAX_ITERATIONS}`);
  }
  const salt = Buffer.from(random(PBKDF2_SALT_BYTES));
  const key = await pbkdf2Async(secret, salt, iterations, PBKDF2_KEY_BYTES, 'sha512');
  return `${iterations}$${toAdaptedBase64(salt)}$${toAdaptedBase64(key)}`;
}

/** Checks a value after the `{PBKDF2-SHA512}` prefix; false for anything malformed. */
export async function verifyPbkdf2Sha512(secret: Uint8Array, encoded: string): Promise<boolean> {
  const match = /^([1-9][0-9]{0,9})\$([^$]+)\$([^$]+)$/.exec(encoded);
  if (!match) return false;
  const iterations = Number(match[1]);
  const salt = fromAdaptedBase64(match[2]!);
  const expected = fromAdaptedBase64(match[3]!);
  if (iterations > PBKDF2_MAX_ITERATIONS || salt?.length !== PBKDF2_SALT_BYTES || expected?.length !== PBKDF2_KEY_BYTES) return false;
  const actual = await pbkdf2Async(secret, salt, iterations, PBKDF2_KEY_BYTES, 'sha512');
  return timingSafeEqual(actual, expected);
}
